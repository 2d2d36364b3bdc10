import { afterAll, describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from '../orchestration/builder.js';
import { MemoryRunLog, type RunEvent, type RunLog } from '../orchestration/run-log.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { faulty } from './faulty.test-helper.js';
import { instances, lastSchema, until } from './instances.test-helper.js';
import { PostgresRunLog } from './run-log.js';
import type { Sql } from './sql.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

const def = workflow('w').step('a', 's', 'a').build();
const created = (runId: string): RunEvent => ({
  type: 'created',
  at: 1,
  runId,
  workflowId: 'w',
  definition: def,
  input: {},
  epoch: 1,
});
const started = (at: number): RunEvent => ({
  type: 'step',
  at,
  runId: 'r',
  workflowId: 'w',
  stepId: 'a',
  service: 's',
  operation: 'a',
  kind: 'start',
  attempt: 1,
  epoch: 1,
});

/** Two instances' run logs; run "r" created and running, held by the first. */
async function runningOnTwo(engine: string) {
  const [a, b] = await instances(engine, 2, 3);
  const la = a!.runLog();
  const lb = b!.runLog();
  await la.claim('r', { fresh: true });
  await la.append('r', created('r'));
  await la.append('r', { type: 'state', at: 2, from: null, to: 'running', epoch: 1 });
  return [la, lb] as const;
}

describe.each(engines.map((e) => [e]))('the run log on %s writes progress behind', (engine) => {
  it('a durable event lands with every progress event before it, in order, for every instance', async () => {
    const [la, lb] = await runningOnTwo(engine);
    for (let i = 0; i < 5; i++) await la.append('r', started(3 + i));
    await la.append('r', { type: 'state', at: 9, from: 'running', to: 'completed', epoch: 1 });
    // Read by another instance, without the writer having been asked to read or flush.
    const record = await lb.read('r');
    expect(record?.state).toBe('completed');
    expect(record?.events.map((e) => e.at)).toEqual([1, 2, 3, 4, 5, 6, 7, 9]);
    expect((await lb.list()).map((s) => [s.runId, s.state])).toEqual([['r', 'completed']]);
  });

  it("the writer's own reads see its progress at once; another instance sees it without a durable point", async () => {
    const [la, lb] = await runningOnTwo(engine);
    expect((await la.read('r'))?.state).toBe('running');
    await la.append('r', started(3));
    // No durable point follows: the event still goes out on its own, within a turn or so.
    let seen = await lb.read('r');
    while (!seen?.events.some((e) => e.at === 3)) {
      await new Promise((r) => setImmediate(r));
      seen = await lb.read('r');
    }
    expect(seen.events.map((e) => e.at)).toEqual([1, 2, 3]);
  });

  it('a run through the engine records on it exactly the events a memory log records', async () => {
    const [a] = await instances(engine, 1, 3);
    const shape = (e: RunEvent) =>
      e.type === 'step' ? `step:${e.stepId}:${e.kind}` : e.type === 'state' ? `state:${e.to}` : e.type;
    const recorded = async (log: RunLog) => {
      const runner = new WorkflowRunner({ services: { s: { a: async () => 7 } }, runLog: log });
      expect((await runner.run(def, {}, { runId: 'e-1' })).status).toBe('completed');
      return (await log.read('e-1'))?.events.map(shape);
    };
    const expected = await recorded(new MemoryRunLog());
    expect(expected?.length).toBeGreaterThan(3);
    expect(await recorded(a!.runLog())).toEqual(expected);
  });

  it('records a step output holding a NUL or half a surrogate pair exactly, as a memory log does', async () => {
    const [a] = await instances(engine, 1, 3);
    const odd = { nul: 'a\u0000b', half: 'cut \ud83d' };
    const runner = new WorkflowRunner({ services: { s: { a: async () => odd } }, runLog: a!.runLog() });
    const result = await runner.run(def, odd, { runId: 'odd-1' });
    expect(result.status).toBe('completed');
    expect(result.logError).toBeUndefined();
    const record = await a!.runLog().read('odd-1');
    expect(record?.state).toBe('completed');
    const outputs = record?.events.flatMap((e) =>
      e.type === 'step' && e.kind === 'success' ? [e.output] : [],
    );
    expect(outputs).toEqual([odd]);
  });

  it('a run resumed after its end was written late still gives that later lease back', async () => {
    const [a, b] = await instances(engine, 2, 3);
    // The write carrying the run's first end fails (the database away), and goes out later behind.
    let away = true;
    const gate = (sql: Sql): Sql => ({
      query: (text, params, opts) =>
        away && /troupe_run_events/.test(text) && JSON.stringify(params ?? []).includes('partially-completed')
          ? Promise.reject(Object.assign(new Error('disk full'), { code: '53100' }))
          : sql.query(text, params, opts),
      exec: (text) => sql.exec(text),
    });
    const db = a!.sql;
    const log = new PostgresRunLog({
      ...gate(db),
      engine: db.engine,
      where: db.where,
      relaxed: gate(db.relaxed),
      transaction: (fn, o) => db.transaction((tx) => fn(gate(tx)), o),
      listen: (...x) => db.listen(...x),
      close: () => db.close(),
    });
    let phase = 'first';
    const services = {
      s: {
        a: async () => 1,
        undoA: async () => {
          throw new TroupeError('TRANSIENT', 'undo target away');
        },
        b: async () => {
          throw new TroupeError(phase === 'first' ? 'TRANSIENT' : 'PERMANENT', 'b refused');
        },
      },
    };
    const stale = workflow('stale')
      .step('a', 's', 'a', { compensate: { operation: 'undoA' } })
      .step('b', 's', 'b', { dependsOn: ['a'], recovery: 'defer', policy: { retry: { maxAttempts: 1 } } })
      .build();
    const runner = new WorkflowRunner({ services, runLog: log });
    await runner.run(stale, {}, { runId: 'late-1' });
    away = false;
    await until(async () => (await log.read('late-1'))?.state === 'partially-completed', 'the late end');
    phase = 'resume';
    await runner.resume('late-1'); // its undo is left to recovery: no end this time
    expect(await log.isHeld('late-1')).toBe(false);
    const other = new WorkflowRunner({
      services: { s: { ...services.s, undoA: async () => 'undone' } },
      runLog: b!.runLog(),
    });
    expect((await other.recoverInterrupted()).map((r) => [r.runId, r.status])).toEqual([
      ['late-1', 'compensated'],
    ]);
  });

  it('a run that ended gave its lease back with its end: nothing more is sent, and any instance may claim it', async () => {
    const [plain] = await instances(engine, 1, 3);
    const sent: string[] = [];
    const store = await PostgresStore.over(
      faulty(plain!.sql, (text, run) => {
        sent.push(text);
        return run();
      }),
      { schema: lastSchema() as string },
    );
    const log = store.runLog();
    const outcome = { fail: false };
    const runner = new WorkflowRunner({
      services: {
        s: {
          a: async () => {
            if (outcome.fail) throw new Error('refused');
            return 7;
          },
        },
      },
      runLog: log,
    });
    expect((await runner.run(def, {}, { runId: 'ended-1' })).status).toBe('completed');
    outcome.fail = true;
    expect((await runner.run(def, {}, { runId: 'ended-2' })).status).toBe('compensated');
    for (const runId of ['ended-1', 'ended-2']) {
      expect(await log.isHeld(runId)).toBe(false); // waits for this log's release, if any
      expect(await plain!.runLog().isHeld(runId)).toBe(false);
    }
    expect(sent.filter((t) => /SET released = true/.test(t))).toEqual([]);
  });

  it('a new run of a random id is claimed with its first event: held against every other instance', async () => {
    const [a, b] = await instances(engine, 2, 3);
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    let reached: (runId: string) => void = () => {};
    const inStep = new Promise<string>((r) => {
      reached = r;
    });
    const runner = new WorkflowRunner({
      services: {
        s: {
          a: async (_: unknown, ctx: { runId: string }) => {
            reached(ctx.runId);
            await gate;
            return 1;
          },
        },
      },
      runLog: a!.runLog(),
    });
    const running = runner.run(def, {});
    const runId = await inStep;
    const lb = b!.runLog();
    await until(async () => (await lb.isHeld(runId)) || (await lb.read(runId)) !== undefined); // its row is on its way
    expect(await lb.isHeld(runId)).toBe(true);
    expect(await lb.claim(runId)).toBeUndefined();
    expect(await lb.claim(runId, { fresh: true })).toBeUndefined();
    open();
    expect((await running).status).toBe('completed');
    expect((await a!.runLog().read(runId))?.epoch).toBe(1);
  });

  it("a takeover's claim is in the log as it commits: an old holder's last word after it is set aside", async () => {
    const [la, lb] = await runningOnTwo(engine);
    await la.read('r');
    const taken = await lb.claim('r', { force: true });
    // Before the new holder has appended anything, the old one ends the run its way.
    await la.append('r', { type: 'state', at: 4, from: 'running', to: 'completed', epoch: 1 });
    const seen = await lb.read('r');
    expect(seen?.epoch).toBe(2);
    expect(seen?.state).toBe('running');
    // The new holder's own claimed event is the one the claim wrote: not written twice.
    await lb.append('r', {
      type: 'claimed',
      at: 5,
      holder: { host: 'h', pid: 1 } as never,
      epoch: taken!.epoch,
    });
    expect((await lb.read('r'))?.events.filter((e) => e.type === 'claimed')).toHaveLength(1);
  });
});

describe.each(engines.map((e) => [e]))('a run whose events were edited with SQL, on %s', (engine) => {
  it('is left as it is and named, and every other interrupted run is still recovered', async () => {
    const [store] = await instances(engine, 1, 3);
    const log = store!.runLog();
    const undone: string[] = [];
    const defUndo = workflow('w')
      .step('a', 's', 'a', { compensate: { operation: 'undoA', needs: 'output' } })
      .step('b', 's', 'b', { dependsOn: ['a'] })
      .build();
    // Two runs cut off after step a (b hangs, and the runner is dropped).
    const hung = new WorkflowRunner({
      services: { s: { a: async () => 1, b: () => new Promise(() => {}), undoA: async () => undefined } },
      runLog: log,
      newRunId: (() => {
        let i = 0;
        return () => `run-${++i}`;
      })(),
    });
    void hung.run(defUndo, {});
    void hung.run(defUndo, {});
    await until(
      async () =>
        (await log.listUnfinished()).length === 2 &&
        (await log.read('run-2'))?.steps[0]?.status === 'succeeded',
    );
    await store!.sql.query(
      "INSERT INTO troupe_run_events (run_id, epoch, event) VALUES ('run-1', 1, 'null')",
    );
    const other = store!.runLog();
    const recovering = new WorkflowRunner({
      services: {
        s: { a: async () => 1, b: async () => 2, undoA: async (_: unknown) => void undone.push('a') },
      },
      runLog: other,
    });
    const results = await recovering.recoverInterrupted({ force: ['run-1', 'run-2'] });
    expect(results.map((r) => [r.runId, r.status])).toEqual([['run-2', 'compensated']]);
    expect(undone).toEqual(['a']);
    expect(other.unreadable).toEqual([
      {
        runId: 'run-1',
        error: expect.stringMatching(/run "run-1": event \d+ is damaged: not a JSON object/),
      },
    ]);
    await expect(other.read('run-1')).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
