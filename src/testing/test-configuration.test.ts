import { describe, expect, it } from 'vitest';
import { failure } from '../configuration/test-setup.test-helper.js';
import {
  assertCompensationOrder,
  assertNoOrphanedEntities,
  assertReferencesIntact,
  assertStoreEquals,
  assertTransitions,
  snapshotStore,
} from './assertions.js';
import { sampleAgent, samplePersonality, sampleRole } from './samples.js';
import { createTestConfiguration, type TestConfiguration } from './test-configuration.js';

async function seeded(opts: Parameters<typeof createTestConfiguration>[0] = {}) {
  const tc = createTestConfiguration(opts);
  await tc.drive(tc.config.createPersonality(samplePersonality));
  await tc.drive(tc.config.createRole(sampleRole));
  return tc;
}

/** What the run should have compensated: its completed steps that have a compensation, latest first. */
async function expectedCompensation(tc: TestConfiguration): Promise<string[]> {
  const record = await tc.runLog.read(tc.recorder.lastRunId!);
  const undoable = new Set(record!.definition.steps.filter((s) => s.compensate).map((s) => s.id));
  return tc.recorder
    .completionOrder()
    .filter((id) => undoable.has(id))
    .reverse();
}

describe('createTestConfiguration', () => {
  it('runs a ConfigurationService over fakes on the virtual clock, recorded', async () => {
    const tc = await seeded();
    const { agent } = await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') }));
    expect(agent).toMatchObject({ id: 'ada', createdAt: new Date(0).toISOString() });
    assertTransitions(tc.recorder, undefined, ['pending', 'running', 'completed']);
    expect(tc.recorder.runIds()).toHaveLength(3);
    expect(tc.faults.callCount('agent')).toBeGreaterThan(0);
    expect(tc.faults.callCount('agents')).toBeGreaterThan(0);
    expect(tc.store.commits).toBeGreaterThanOrEqual(3);
    expect(tc.config.services).toBe(tc.services);
    await assertNoOrphanedEntities(tc.store);
    await assertReferencesIntact(tc.services, { allowStale: false });
    expect(tc.clock.now()).toBe(0);
  });

  it('compensates a failed agent creation in reverse order and leaves the store as it was', async () => {
    const tc = await seeded();
    const before = await snapshotStore(tc.store);
    // The last step fails, after the agent, its personality, role and resolved file were written.
    tc.faults.failNext('configuration', 1, 'PERMANENT', 'verify');
    const e = await failure(
      tc.drive(
        tc.config.createAgent({
          agent: sampleAgent('bo', { personalityId: 'warm', roleId: 'coach' }),
          personality: { ...samplePersonality, id: 'warm', name: 'Warm' },
          role: { ...sampleRole, id: 'coach', name: 'Coach' },
        }),
      ),
    );
    expect(e.code).toBe('PERMANENT');
    expect(e.message).toBe('configuration.verify: injected PERMANENT error');
    assertTransitions(tc.recorder, undefined, ['pending', 'running', 'compensating', 'compensated']);
    const expected = await expectedCompensation(tc);
    expect(expected).toEqual(['persist']);
    assertCompensationOrder(tc.recorder, expected);
    await assertStoreEquals(tc.store, before);
    await assertNoOrphanedEntities(tc.store);
  });

  it('retries a transient step failure after the seeded backoff delay', async () => {
    const tc = await seeded({ seed: 7 });
    tc.faults.failNext('agent', 1, 'TRANSIENT', 'compose');
    await tc.drive(tc.config.createAgent({ agent: sampleAgent('cy') }));
    const step = tc.recorder.steps().find((s) => s.service === 'agent' && s.operation === 'compose')!.stepId;
    const attempts = tc.recorder.attempts(step);
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    // The built-in policy's first delay is 50 ms ± 25% jitter.
    const delay = attempts[1]!.at - attempts[0]!.at;
    expect(delay).toBeGreaterThanOrEqual(37.5);
    expect(delay).toBeLessThanOrEqual(62.5);
    const again = await seeded({ seed: 7 });
    again.faults.failNext('agent', 1, 'TRANSIENT', 'compose');
    await again.drive(again.config.createAgent({ agent: sampleAgent('cy') }));
    expect(again.recorder.attemptTimes(step)).toEqual(attempts.map((a) => a.at));
  });

  it('ends a hung step with its timeout at exactly timeoutMs', async () => {
    const tc = await seeded({ servicePolicies: { agent: { timeoutMs: 2000 } } });
    tc.faults.hangNext('agent', 'compose');
    const e = await failure(tc.drive(tc.config.createAgent({ agent: sampleAgent('dee') })));
    expect(e.code).toBe('TIMEOUT');
    expect(tc.clock.now()).toBe(2000);
    expect(tc.faults.calls.find((c) => c.service === 'agent')).toMatchObject({
      at: 0,
      endedAt: 2000,
      outcome: 'cancelled',
    });
    await assertNoOrphanedEntities(tc.store);
  });

  it('survives a crash mid-commit: nothing of the agent is left', async () => {
    const tc = await seeded();
    const before = await snapshotStore(tc.store);
    tc.store.crashNextCommit();
    const e = await failure(tc.drive(tc.config.createAgent({ agent: sampleAgent('eve') })));
    expect(e.code).toBe('PERMANENT');
    expect(e.context).toMatchObject({ crash: true });
    expect(tc.store.crashedCommits).toBe(1);
    await assertStoreEquals(tc.store, before);
  });

  it('can leave the workflow operations unfaulted', async () => {
    const tc = await seeded({ stepFaults: false });
    tc.faults.failNext('agent', 1, 'PERMANENT');
    await tc.drive(tc.config.createAgent({ agent: sampleAgent('fay') }));
    expect(tc.faults.callCount('agent')).toBe(0);
  });
});

describe('the same seed, the same calls', () => {
  it('store the same documents and record the same runs, ids included (snapshots can be compared)', async () => {
    const once = async () => {
      const tc = await seeded({ seed: 7 });
      await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') }));
      await tc.drive(tc.config.updatePersonality('calm', { behaviors: { humor: 70 } }));
      const record = await tc.runLog.read(tc.recorder.lastRunId!);
      return { store: await snapshotStore(tc.store), runs: tc.recorder.runIds(), events: record?.steps };
    };
    const [a, b] = [await once(), await once()];
    expect(a.store.agents[0]?.commit).toBeDefined();
    expect(b).toEqual(a);
  });
});
