import { afterAll, describe, expect, it } from 'vitest';
import { workflow } from '../orchestration/builder.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { faulty } from './faulty.test-helper.js';
import { instances } from './instances.test-helper.js';
import { PostgresRunLog } from './run-log.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

const reset = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
const makesRow = (text: string) =>
  text.includes('INSERT INTO troupe_runs') && text.includes('troupe_run_events');

describe.each(engines.map((e) => [e]))('the run log on %s through faults', (engine) => {
  it("a new run's first write whose answer is lost is not written twice, and the run goes on", async () => {
    const [a] = await instances(engine, 1, 3);
    let lose = 1;
    const log = new PostgresRunLog(
      faulty(a!.sql, async (text, run) => {
        const out = await run();
        if (makesRow(text) && lose-- > 0) throw reset(); // committed, but the answer never came
        return out;
      }),
    );
    const runner = new WorkflowRunner({ services: { s: { a: async () => 1 } }, runLog: log });
    const result = await runner.run(workflow('w').step('a', 's', 'a').build(), {});
    expect(result.status).toBe('completed');
    const record = await a!.runLog().read(result.runId);
    expect(record?.state).toBe('completed');
    expect(record?.events.filter((e) => e.type === 'created')).toHaveLength(1);
    expect(lose).toBe(-1); // the fault did happen
  });

  it('a later write whose answer is lost, though it committed, adds none of its events twice', async () => {
    const [a] = await instances(engine, 1, 3);
    let lose = 1;
    const log = new PostgresRunLog(
      faulty(a!.sql, async (text, run) => {
        const out = await run();
        if (text.includes('UPDATE troupe_runs SET') && text.includes('troupe_run_events') && lose-- > 0)
          throw reset();
        return out;
      }),
    );
    // A step longer than the log's delay: the run's first events go out before its end does.
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 60));
      return 1;
    };
    const runner = new WorkflowRunner({ services: { s: { a: slow } }, runLog: log });
    const def = workflow('w')
      .step('a', 's', 'a')
      .step('b', 's', 'a', { dependsOn: ['a'] })
      .build();
    const result = await runner.run(def, {});
    expect(lose).toBe(-1); // the fault did happen
    await log.close();
    const record = await a!.runLog().read(result.runId);
    const texts = record!.events.map((e) => JSON.stringify(e));
    expect(texts.filter((t, i) => texts.indexOf(t) !== i)).toEqual([]);
    expect(record?.state).toBe(result.status);
  });

  it('a new run keeps its lease while its first write is retried: no other instance takes it over', async () => {
    const [a, b] = await instances(engine, 2, 3);
    let failing = true;
    const log = new PostgresRunLog(
      faulty(a!.sql, async (text, run) => {
        if (makesRow(text) && failing) throw reset();
        return run();
      }),
      { leaseMs: 150 },
    );
    let inStep: () => void = () => {};
    const reached = new Promise<void>((r) => {
      inStep = r;
    });
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => {
      finish = r;
    });
    const runner = new WorkflowRunner({
      services: {
        s: {
          a: async () => {
            inStep();
            await gate;
            return 1;
          },
        },
      },
      runLog: log,
    });
    const running = runner.run(workflow('w').step('a', 's', 'a').build(), {});
    await reached;
    // Renewals come due (a third of 150 ms) while the row cannot be written; then it can.
    await new Promise((r) => setTimeout(r, 200));
    failing = false;
    let runId: string | undefined;
    while (!runId) {
      runId = (await b!.runLog().list())[0]?.runId;
      if (!runId) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200)); // longer than the lease: only renewals keep it
    const other = new WorkflowRunner({ services: { s: { a: async () => 1 } }, runLog: b!.runLog() });
    expect(await other.recoverInterrupted()).toEqual([]);
    finish();
    expect((await running).status).toBe('completed');
    expect((await b!.runLog().read(runId))?.state).toBe('completed');
  });
});
