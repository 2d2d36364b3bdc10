/**
 * How to test code that coordinates Troupe's services with the testing kit under Vitest.
 * The same calls work under Jest and node:test (see node-test-example.mjs): the kit's
 * assertions throw node's AssertionError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertCompensationOrder,
  assertNoOrphanedEntities,
  assertStoreEquals,
  assertTransitions,
  createTestConfiguration,
  sampleAgent,
  samplePersonality,
  sampleRole,
  snapshotStore,
  type TestConfiguration,
} from '../../src/testing/index.js';

let tc: TestConfiguration;

/** A configuration with one personality and one role, on a virtual clock. */
async function castReady(): Promise<TestConfiguration> {
  tc = createTestConfiguration({ seed: 1 });
  await tc.drive(tc.config.createPersonality(samplePersonality));
  await tc.drive(tc.config.createRole(sampleRole));
  return tc;
}

afterEach(async () => {
  await tc?.cleanup();
});

describe('updating a personality when a later step fails', () => {
  it('compensates the written steps in reverse order and leaves no orphans', async () => {
    const { config, faults, recorder, store, drive } = await castReady();
    await drive(config.createAgent({ agent: sampleAgent('ada') }));
    const before = await snapshotStore(store);

    // The consistency check at the end of the cascading update fails once, permanently.
    faults.failNext('configuration', 1, 'PERMANENT', 'verify');
    await expect(
      drive(config.updatePersonality('calm', { bigFive: { openness: 95 } })),
    ).rejects.toMatchObject({
      code: 'PERMANENT',
    });

    assertTransitions(recorder, undefined, ['pending', 'running', 'compensating', 'compensated']);
    assertCompensationOrder(recorder, ['update']); // one commit wrote it all: one undo
    // Content as before; revisions only move forward, so a rollback is a new revision.
    await assertStoreEquals(store, before, { content: true });
    await assertNoOrphanedEntities(store);
  });
});

describe('creating an agent while a step is flaky', () => {
  it('retries the transient failure on the virtual clock and succeeds', async () => {
    const { config, faults, recorder, clock, drive } = await castReady();

    faults.failNext('agent', 1, 'TRANSIENT', 'compose');
    const { agent } = await drive(config.createAgent({ agent: sampleAgent('bo') }));

    expect(agent.id).toBe('bo');
    expect(recorder.attempts('agent').map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    // The retry waited its backoff in virtual time: no real time passed.
    expect(clock.now()).toBeGreaterThan(0);
    await assertNoOrphanedEntities(tc.store);
  });
});
