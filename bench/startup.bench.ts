import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, formatTable, isMain, timePerOp, withRatios } from './run.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'troupe.js');

/**
 * Start-up: a simple command (`personality list` on a small directory) and `--version`,
 * each a fresh process, against `node -e 0` (target: at most 2×).
 */
export async function startupBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-start-'));
  try {
    const cfg = join(dir, 'cfg');
    const troupe = (...args: string[]) =>
      execFileSync(process.execPath, [BIN, '--dir', cfg, ...args], { stdio: 'pipe' });
    troupe('init');
    troupe('personality', 'create', '--preset', 'calm-analyst');
    const spawn = (args: string[]) => async () =>
      void execFileSync(process.execPath, args, { stdio: 'pipe' });
    const opts = { iterations: 3, rounds: 5, warmupRounds: 1 };
    return withRatios([
      { name: 'node -e 0', value: await timePerOp(spawn(['-e', '0']), opts), unit: 'ms' },
      {
        name: 'troupe --version',
        value: await timePerOp(spawn([BIN, '--version']), opts),
        unit: 'ms',
        baseline: 'node -e 0',
      },
      {
        name: 'troupe personality list (1 entity)',
        value: await timePerOp(spawn([BIN, '--dir', cfg, 'personality', 'list']), opts),
        unit: 'ms',
        baseline: 'node -e 0',
      },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) console.log(formatTable(await startupBench()));
