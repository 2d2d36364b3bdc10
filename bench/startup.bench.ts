import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, formatTable, isMain, timeInTurns, withRatios } from './run.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'troupe.js');

/**
 * Start-up: a simple command (`personality list` on a small directory) and `--version`,
 * each a fresh process, against `node -e 0` (target: at most 2×). The CLI runs from its bundle
 * with V8's code cache (src/cli/launch.ts), in a cache of the bench's own; the warm-up round
 * fills it, as a user's first run does. The last row is the same command with the cache off.
 */
export async function startupBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-start-'));
  try {
    const cfg = join(dir, 'cfg');
    const troupe = (...args: string[]) =>
      execFileSync(process.execPath, [BIN, '--dir', cfg, ...args], { stdio: 'pipe' });
    troupe('init');
    troupe('personality', 'create', '--preset', 'calm-analyst');
    const env = { ...process.env, TROUPE_COMPILE_CACHE: join(dir, 'cache') };
    const spawn =
      (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      async () =>
        void execFileSync(process.execPath, args, { stdio: 'pipe', env: { ...env, ...extra } });
    const list = [BIN, '--dir', cfg, 'personality', 'list'];
    const t = await timeInTurns(
      {
        'node -e 0': spawn(['-e', '0']),
        'troupe --version': spawn([BIN, '--version']),
        'troupe personality list (1 entity)': spawn(list),
        'troupe personality list, no code cache': spawn(list, { TROUPE_COMPILE_CACHE: 'off' }),
      },
      { rounds: 15, warmupRounds: 1 },
    );
    return withRatios(
      Object.entries(t).map(([name, value]) => ({
        name,
        value,
        unit: 'ms',
        ...(name === 'node -e 0' ? {} : { baseline: 'node -e 0' }),
      })),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) console.log(formatTable(await startupBench()));
