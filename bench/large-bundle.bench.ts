import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { postgresUnavailable } from '../src/postgres/test-db.test-helper.js';
import { type BenchRow, formatTable, isMain, withRatios } from './run.js';

interface Measured {
  ms: number;
  maxRssMB: number;
}

/** Applies an N-entity bundle in a fresh process (its own peak memory) and reads its figures. */
function applyInChild(entities: number, engine: 'file' | 'postgres' = 'file'): Promise<Measured> {
  const script = fileURLToPath(new URL('./large-bundle-child.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, String(entities), engine], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Measured)
        : reject(new Error(`large-bundle-child ${entities} exited ${code}`)),
    );
  });
}

/**
 * A bundle of 10,000 entities and one of 160,000, each applied (all or nothing, with the run
 * log) in a fresh process. Linear time is a ratio of about 16; the peak memory of each is the
 * process's maximum resident set. `BENCH_LARGE=0` skips the 160k row (it takes minutes).
 */
export async function largeBundleBench(): Promise<BenchRow[]> {
  const small = await applyInChild(10_000);
  const rows: BenchRow[] = [
    { name: 'apply 10,000 entities (fresh process)', value: small.ms, unit: 'ms' },
    { name: '  peak resident memory', value: small.maxRssMB, unit: 'MB' },
  ];
  if (!(await postgresUnavailable())) {
    const onPostgres = await applyInChild(10_000, 'postgres');
    rows.push({
      name: 'apply 10,000 entities on PostgreSQL',
      value: onPostgres.ms,
      unit: 'ms',
      baseline: 'apply 10,000 entities (fresh process)',
    });
  }
  if (process.env.BENCH_LARGE !== '0') {
    const large = await applyInChild(160_000);
    rows.push(
      {
        name: 'apply 160,000 entities (linear: ≈ 16×)',
        value: large.ms,
        unit: 'ms',
        baseline: 'apply 10,000 entities (fresh process)',
      },
      {
        name: '  peak resident memory ',
        value: large.maxRssMB,
        unit: 'MB',
        baseline: '  peak resident memory',
      },
    );
  }
  return withRatios(rows);
}

if (isMain(import.meta)) console.log(formatTable(await largeBundleBench()));
