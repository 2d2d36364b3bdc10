import { afterAll, describe, expect, it } from 'vitest';
import { gatedWrite } from '../orchestration/gated-write.test-helper.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { instances } from './instances.test-helper.js';
import type { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

describe.each(engines.map((e) => [e]))('fencing a zombie on %s', (engine) => {
  it('a step of a run another instance took over writes nothing, though it goes on', async () => {
    const [storeA, storeB] = (await instances(engine, 2, 3)) as [PostgresStore, PostgresStore];
    const { open, waiting, services, def } = gatedWrite(() => storeA, 'late');
    const a = new WorkflowRunner({ services, runLog: storeA.runLog() });
    const running = a.run(def, {}, { runId: 'zombie-1' });
    await waiting;
    // Instance B takes the run over (forced: A is alive in this very process).
    const lease = await storeB.runLog().claim('zombie-1', { force: true });
    expect(lease?.epoch).toBe(2);
    open();
    const r = await running;
    expect(r.status).not.toBe('completed');
    expect(r.error?.message).toMatch(
      /taken over by another instance \(its lease is at epoch 2, this write holds 1\)/,
    );
    expect(await storeB.get('personalities', 'late')).toBeUndefined();
    // The same write with the current epoch goes through.
    await storeB.commit([{ op: 'put', kind: 'personalities', doc: { id: 'late' } }], {
      fence: { runId: 'zombie-1', epoch: 2 },
    });
    expect((await storeA.get('personalities', 'late'))?.revision).toBe(1);
  });
});
