// The seeded simulation at any size: npm run simulate -- --runs 100000 [--seed S] [--path P]
// A failure prints its seed, the shrunk case and the path that replays it (pass both back).
import fc from 'fast-check';
import { simulation } from '../test/sim/simulation.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('runs') ?? 10_000);
const seed = arg('seed') !== undefined ? Number(arg('seed')) : Date.now() % 2 ** 31;
const path = arg('path');
process.on('unhandledRejection', () => {
  // fast-check's scheduler settles some rejected promises late; every failure is still reported.
});
const started = Date.now();
const out = await fc.check(simulation, {
  numRuns: runs,
  seed,
  ...(path ? { path, endOnFailure: true } : {}),
});
if (out.failed) {
  process.stdout.write(`${fc.defaultReportMessage(out)}\n`);
  const error = out.errorInstance;
  process.stdout.write(`what broke: ${error instanceof Error ? error.message : String(error)}\n`);
  process.stdout.write(
    `replay: npm run simulate -- --runs ${runs} --seed ${out.seed} --path ${out.counterexamplePath}\n`,
  );
  process.exitCode = 1;
} else {
  process.stdout.write(
    `${out.numRuns} cases from seed ${seed}: every invariant held (${Math.round((Date.now() - started) / 1000)} s)\n`,
  );
}
