import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WorkflowRunner } from '../src/orchestration/runner.js';
import { PostgresStore } from '../src/postgres/store.js';
import {
  dropSchema,
  freshSchema,
  postgresUnavailable,
  TEST_POSTGRES_URL,
} from '../src/postgres/test-db.test-helper.js';
import { type BenchRow, formatTable, isMain } from './run.js';

const child = fileURLToPath(new URL('./takeover-child.ts', import.meta.url));

/** Starts an instance process (on another host name if `host`), waits for it to be in its step, kills it. */
async function killedMidRun(url: string, runId: string, host?: string): Promise<number> {
  const node = [process.execPath, '--import', 'tsx', child, url, runId];
  const p = host
    ? spawn('unshare', ['--uts', '--', 'sh', '-c', `hostname ${host} && exec "$@"`, 'sh', ...node], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(node[0] as string, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    p.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('in step')) resolve();
    });
    p.on('exit', (code) => reject(new Error(`the instance ended (${code}) before its step`)));
  });
  const exited = new Promise((r) => p.on('exit', r));
  p.kill('SIGKILL');
  await exited;
  return performance.now();
}

/**
 * Takeover of a killed instance's run by a live one: from SIGKILL until the live instance has
 * compensated the run, with recovery swept every 50 ms. On this host a dead holder is seen at
 * once; on another host (a UTS namespace of its own name) only its lease running out says so.
 */
export async function takeoverBench(): Promise<BenchRow[]> {
  const why = await postgresUnavailable();
  if (why) return [{ name: `skipped: ${why}`, value: 0, unit: '' }];
  const schema = freshSchema();
  const u = new URL(TEST_POSTGRES_URL);
  u.searchParams.set('schema', schema);
  const url = u.toString();
  const store = await PostgresStore.connect(url, { poolSize: 3 });
  const runner = new WorkflowRunner({
    services: { s: { a: async () => 1, undo: async () => undefined, b: async () => 1 } },
    runLog: store.runLog(),
  });
  // The definition comes from the run log, as any instance's recovery reads it.
  const takeover = async (runId: string, host?: string) => {
    const killed = await killedMidRun(url, runId, host);
    for (;;) {
      const done = (await runner.recoverInterrupted()).find((r) => r.runId === runId);
      if (done) return { ms: performance.now() - killed, status: done.status };
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const here = await takeover('killed-here');
    const rows: BenchRow[] = [
      { name: `killed on this host: taken over and ${here.status}`, value: here.ms, unit: 'ms' },
    ];
    const unshareWorks = await new Promise<boolean>((r) =>
      spawn('unshare', ['--uts', 'true'])
        .on('exit', (c) => r(c === 0))
        .on('error', () => r(false)),
    );
    if (unshareWorks) {
      const there = await takeover('killed-elsewhere', 'troupe-elsewhere');
      rows.push({
        name: `killed on another host (lease 9 s): taken over and ${there.status}`,
        value: there.ms,
        unit: 'ms',
      });
    } else
      rows.push({
        name: 'killed on another host: skipped (needs root for unshare --uts)',
        value: 0,
        unit: '',
      });
    return rows;
  } finally {
    await store.close();
    await dropSchema(schema);
  }
}

if (isMain(import.meta)) console.log(formatTable(await takeoverBench()));
