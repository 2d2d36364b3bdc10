import { afterAll, describe, expect, it } from 'vitest';
import { workflow } from '../orchestration/builder.js';
import type { RunResult } from '../orchestration/events.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { instances, until } from './instances.test-helper.js';
import type { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

const def = workflow('queued').step('a', 's', 'a').build();

/** `store`'s queue worked by a runner whose step counts the runs it executes, until stopped. */
function worker(store: PostgresStore, executed: string[], results: RunResult[], errors: unknown[] = []) {
  const stop = new AbortController();
  const runner = new WorkflowRunner({
    services: {
      s: {
        a: async (input: unknown, ctx: { runId: string }) => {
          executed.push(ctx.runId);
          return input;
        },
      },
    },
    runLog: store.runLog(),
  });
  const done = store.runQueue().work(runner, {
    signal: stop.signal,
    onRun: (r) => results.push(r),
    onError: (e) => errors.push(e),
    pollMs: 50,
  });
  return { stop: () => stop.abort(), done };
}

describe.each(engines.map((e) => [e]))('the run queue on %s', (engine) => {
  it('a queued run is taken by a working instance, run once to its end, and leaves the queue', async () => {
    const [a] = await instances(engine, 1, 3);
    const executed: string[] = [];
    const results: RunResult[] = [];
    const w = worker(a!, executed, results);
    const runId = await a!.runQueue().enqueue(def, { n: 1 });
    await until(() => results.length === 1);
    w.stop();
    await w.done;
    expect(results[0]).toMatchObject({ runId, status: 'completed' });
    expect(executed).toEqual([runId]);
    expect((await a!.runLog().read(runId))?.state).toBe('completed');
    expect(await a!.runQueue().waiting()).toEqual([]);
  });

  it('runs queued for four instances are each executed exactly once', async () => {
    const stores = await instances(engine, 4, 3);
    const executed: string[] = [];
    const results: RunResult[] = [];
    const queue = stores[0]!.runQueue();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await queue.enqueue(def, { i }));
    const workers = stores.map((s) => worker(s, executed, results));
    for (let i = 0; i < 30; i++) ids.push(await queue.enqueue(def, { i }));
    await until(() => results.length === ids.length);
    for (const w of workers) w.stop();
    await Promise.all(workers.map((w) => w.done));
    expect([...executed].sort()).toEqual([...ids].sort());
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    expect(await queue.waiting()).toEqual([]);
  });

  it('refuses an input that carries a secret, and a run id already used; nothing is queued', async () => {
    const [a] = await instances(engine, 1, 3);
    const queue = a!.runQueue();
    await expect(
      queue.enqueue(def, { note: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345' }),
    ).rejects.toThrow(/input "note" looks like a key or token/);
    await queue.enqueue(def, {}, { runId: 'once' });
    await expect(queue.enqueue(def, {}, { runId: 'once' })).rejects.toThrow(/already in use/);
    expect((await queue.waiting()).map((w) => w.runId)).toEqual(['once']);
    const db = a!.sql;
    const { rows } = await db.query<{ input: string }>('SELECT input::text FROM troupe_run_queue');
    expect(rows.map((r) => r.input).join()).not.toContain('sk-ant');
  });

  it('a run taken by an instance that died before recording it is run by another, once', async () => {
    const [a] = await instances(engine, 1, 3);
    const queue = a!.runQueue();
    const runId = await queue.enqueue(def, {});
    // The dead instance's traces: its take ran out, and its claim (never recorded) too.
    await a!.sql.query(`UPDATE troupe_run_queue SET taken_until = now() - interval '1 second'`);
    await a!.sql.query(
      `INSERT INTO troupe_runs (run_id, epoch, lease_token, lease_holder, lease_expires_at)
       VALUES ($1, 1, 'dead', '{"host":"gone","pid":1}', now() - interval '1 second')`,
      [runId],
    );
    const executed: string[] = [];
    const results: RunResult[] = [];
    const w = worker(a!, executed, results);
    await until(() => results.length === 1);
    w.stop();
    await w.done;
    expect(executed).toEqual([runId]);
    expect(results[0]?.status).toBe('completed');
    expect(await queue.waiting()).toEqual([]);
    // The dead claim's row was taken over, not replaced: a claimant that only stalled is fenced.
    expect((await a!.runLog().read(runId))?.epoch).toBe(2);
  });

  it('an entry whose run another instance already began is dropped, not run again', async () => {
    const [a] = await instances(engine, 1, 3);
    const queue = a!.runQueue();
    const runId = await queue.enqueue(def, {});
    // Another instance took it, began it and finished it, then died before dropping the entry.
    await new WorkflowRunner({ services: { s: { a: async () => 1 } }, runLog: a!.runLog() }).run(
      def,
      {},
      { runId },
    );
    await a!.sql.query(`UPDATE troupe_run_queue SET taken_until = now() - interval '1 second'`);
    const executed: string[] = [];
    const w = worker(a!, executed, []);
    await until(async () => (await queue.waiting()).length === 0);
    w.stop();
    await w.done;
    expect(executed).toEqual([]);
  });
});

describe.runIf(engines.includes('postgres'))('the run queue on a server', () => {
  it('keeps no plan of taking or dropping a run on a connection: each is planned for the queue as it is', async () => {
    // Two connections: one listens for the queue's notices, the other makes every statement.
    const [a] = await instances('postgres', 1, 2);
    const executed: string[] = [];
    const results: RunResult[] = [];
    const w = worker(a!, executed, results);
    for (let i = 0; i < 8; i++) await a!.runQueue().enqueue(def, { i });
    await until(() => results.length === 8);
    // Asked while the listener is still out: on the connection that made every other statement.
    const { rows } = await a!.sql.query<{ statement: string }>(
      'SELECT statement FROM pg_prepared_statements',
    );
    w.stop();
    await w.done;
    expect(rows.some((r) => /troupe_runs/.test(r.statement))).toBe(true); // the run log's are kept
    // Taking a run and dropping it once begun (an insert of one by its key may keep its plan).
    const takeOrDrop = /^\s*(UPDATE|DELETE FROM) troupe_run_queue/;
    expect(rows.filter((r) => takeOrDrop.test(r.statement)).map((r) => r.statement)).toEqual([]);
  });
});
