// npm run reliability [-- --sim-runs N] [--no-mutations]
// Runs every reliability test (crash points killed and as power losses, the seeded simulation,
// the multi-process stress, the bad-input corpus) and the fsync mutations, and prints one table
// of what each exercised and what held. Exits 1 when anything did not hold.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATIONS, mutate } from './fsync-mutations.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const FILES = [
  'test/crash/crash-points.test.ts',
  'test/power',
  'test/sim',
  'test/races/stress.test.ts',
  'test/corpus',
  'test/crash/fsync-order.test.ts',
  'src/orchestration/policies-proven.test.ts',
];
const HELD: Record<string, string> = {
  'crash points, killed (SIGKILL)':
    'the next command recovers to all of the change or none of it; consistent; no lock, temp file or unfinished run left',
  'crash points, power lost (simulated disk)':
    'every file parses; all or nothing; all of it once acknowledged; consistent; nothing left; the run log says what happened',
  'seeded simulation':
    'the store is the model moved by what was acknowledged; rejected writes change nothing; consistent after every step',
  'processes and conflicting updates':
    '0 acknowledged writes lost or undone; 0 revisions handed out twice; no dead holder in the way',
  'bad-input corpus':
    'a clear error naming file and field, the right exit code, nothing changed, no secret echoed',
};

const dir = mkdtempSync(join(tmpdir(), 'troupe-reliability-'));
const statsFile = join(dir, 'stats.jsonl');
const report = join(dir, 'report.json');
const simRuns = arg('sim-runs') ?? '2000';
process.stdout.write(`running ${FILES.join(', ')} …\n`);
spawnSync('npx', ['vitest', 'run', ...FILES, '--reporter=json', `--outputFile=${report}`], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, TROUPE_STATS: statsFile, TROUPE_SIM_RUNS: simRuns },
});
const results = JSON.parse(readFileSync(report, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string }> }>;
};
const failed = results.testResults.flatMap((f) =>
  f.assertionResults
    .filter((t) => t.status === 'failed')
    .map((t) => `${f.name.slice(root.length + 1)} › ${t.title}`),
);

// Figures per row, summed (a seed is listed rather than summed).
const rows = new Map<string, Map<string, number[]>>();
let text = '';
try {
  text = readFileSync(statsFile, 'utf8');
} catch {
  // No test recorded a figure: every row shows as not run.
}
for (const line of text.split('\n').filter(Boolean)) {
  const { row, figure, value } = JSON.parse(line) as { row: string; figure: string; value: number };
  const figures = rows.get(row) ?? new Map<string, number[]>();
  figures.set(figure, [...(figures.get(figure) ?? []), value]);
  rows.set(row, figures);
}
const table: Array<[string, string, string]> = [];
for (const [row, held] of Object.entries(HELD)) {
  const figures = rows.get(row);
  const shown = figures
    ? [...figures]
        .map(([f, vs]) => (f === 'seed' ? `seed ${vs.join(', ')}` : `${vs.reduce((a, b) => a + b, 0)} ${f}`))
        .join(', ')
    : 'not run';
  table.push([row, shown, figures ? held : '—']);
}

let mutationsOk = true;
if (!process.argv.includes('--no-mutations')) {
  process.stdout.write(`removing each of ${MUTATIONS.length} fsyncs in turn …\n`);
  const caught: string[] = [];
  const missed: string[] = [];
  for (const m of MUTATIONS) {
    const r = mutate(root, m);
    (r.caught ? caught : missed).push(m.id);
    process.stdout.write(
      `  ${r.caught ? 'caught' : 'NOT CAUGHT'} ${m.id}${r.by[0] ? ` by ${r.by[0]}` : ''}\n`,
    );
  }
  mutationsOk = missed.length === 0;
  table.push([
    'fsync mutations',
    `${caught.length} of ${MUTATIONS.length} caught${missed.length ? ` (missed: ${missed.join(', ')})` : ''}`,
    'removing any one fsync of the store or the run log fails a power-loss test',
  ]);
}
rmSync(dir, { recursive: true, force: true });

const widths = [0, 1, 2].map((c) =>
  Math.max(...table.map((r) => r[c]!.length), ['WHAT', 'EXERCISED', 'HELD'][c]!.length),
);
const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`;
process.stdout.write(`\n${line(['WHAT', 'EXERCISED', 'HELD'])}`);
for (const r of table) process.stdout.write(line(r));
process.stdout.write(`\n${results.numPassedTests} tests passed, ${results.numFailedTests} failed\n`);
for (const f of failed) process.stdout.write(`  failed: ${f}\n`);
process.exitCode = failed.length === 0 && mutationsOk ? 0 : 1;
