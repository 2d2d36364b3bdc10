// How to use the testing kit under node:test, from the built package.
// Run with: npm run build && node --test test/kit/node-test-example.mjs
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
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
} from '../../dist/testing/index.js';

let tc;

async function castReady() {
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

    faults.failNext('configuration', 1, 'PERMANENT', 'verify');
    await assert.rejects(drive(config.updatePersonality('calm', { bigFive: { openness: 95 } })), {
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
    const { config, faults, recorder, drive } = await castReady();

    faults.failNext('agent', 1, 'TRANSIENT', 'compose');
    const { agent } = await drive(config.createAgent({ agent: sampleAgent('bo') }));

    assert.equal(agent.id, 'bo');
    assert.deepEqual(
      recorder.attempts('agent').map((a) => a.outcome),
      ['failed', 'succeeded'],
    );
    await assertNoOrphanedEntities(tc.store);
  });
});
