// How to use the testing kit under Jest (ES modules, no transform), from the built package by
// its own name, as a project that installed troupe imports it.
// Run with: npm run build && npm run test:jest
import { afterEach, describe, expect, it, jest } from '@jest/globals';
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
} from 'troupe/testing';

let tc;

async function castReady() {
  tc = createTestConfiguration({ seed: 1 });
  await tc.drive(tc.config.createPersonality(samplePersonality));
  await tc.drive(tc.config.createRole(sampleRole));
  return tc;
}

afterEach(async () => {
  jest.useRealTimers();
  await tc?.cleanup();
});

describe('updating a personality when a later step fails', () => {
  it('compensates the written steps in reverse order and leaves no orphans', async () => {
    const { config, faults, recorder, store, drive } = await castReady();
    await drive(config.createAgent({ agent: sampleAgent('ada') }));
    const before = await snapshotStore(store);

    faults.failNext('configuration', 1, 'PERMANENT', 'verify');
    await expect(
      drive(config.updatePersonality('calm', { bigFive: { openness: 95 } })),
    ).rejects.toMatchObject({
      code: 'PERMANENT',
    });

    assertTransitions(recorder, undefined, ['pending', 'running', 'compensating', 'compensated']);
    assertCompensationOrder(recorder, ['update']); // one commit wrote it all: one undo
    await assertStoreEquals(store, before, { content: true });
    await assertNoOrphanedEntities(store);
  });
});

describe('creating an agent while a step is flaky', () => {
  it('retries the transient failure on the virtual clock, under Jest fake timers too', async () => {
    const { config, faults, recorder, drive } = await castReady();
    jest.useFakeTimers(); // after troupe/testing was loaded: drive keeps the real timers it found

    faults.failNext('agent', 1, 'TRANSIENT', 'compose');
    const { agent } = await drive(config.createAgent({ agent: sampleAgent('bo') }));

    expect(agent.id).toBe('bo');
    expect(recorder.attempts('agent').map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    await assertNoOrphanedEntities(tc.store);
  });

  it('fails a kit assertion with a message naming what differs', async () => {
    const { config, store, drive } = await castReady();
    const before = await snapshotStore(store);
    await drive(config.createAgent({ agent: sampleAgent('cy') }));
    await expect(assertStoreEquals(store, before, { content: true })).rejects.toThrow(/cy/);
  });
});
