import { AssertionError } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServices } from '../configuration/services.js';
import { Emitter, type RunnerEvents, type RunResult } from '../orchestration/events.js';
import { MemoryStore } from '../storage/memory/store.js';
import {
  assertAttemptTimes,
  assertCompensationOrder,
  assertNoOrphanedEntities,
  assertReferencesIntact,
  assertRunStatus,
  assertStateAt,
  assertStoreEquals,
  assertTransitions,
  snapshotStore,
} from './assertions.js';
import { createFakeServices } from './fakes.js';
import { WorkflowRecorder } from './recorder.js';
import { sampleAgent, samplePersonality, sampleRole } from './samples.js';

/** The AssertionError a call throws (sync or async), so its message can be checked. */
async function assertionError(fn: () => unknown): Promise<AssertionError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof AssertionError) return e;
    throw e;
  }
  throw new Error('expected an AssertionError');
}

/** A recorder fed by hand: run r1 compensated b then a; step s attempted at 0 and 100. */
function recorded() {
  const emitter = new Emitter<RunnerEvents>();
  const recorder = new WorkflowRecorder();
  recorder.attach({ on: (name, listener) => emitter.on(name, listener) });
  const base = { runId: 'r1', workflowId: 'w' };
  const state = (
    from: RunResult['status'] | 'pending' | 'running' | 'compensating' | null,
    to: string,
    at: number,
  ) => emitter.emit('stateChange', { ...base, from, to: to as never, at });
  const step = (stepId: string, kind: string, at: number, attempt = 1) =>
    emitter.emit('step', {
      ...base,
      stepId,
      service: 'svc',
      operation: 'op',
      kind: kind as never,
      attempt,
      at,
    });
  state(null, 'pending', 0);
  state('pending', 'running', 0);
  step('s', 'attempt', 0);
  step('s', 'attempt-failed', 0);
  step('s', 'attempt', 100, 2);
  step('s', 'failure', 100, 2);
  state('running', 'compensating', 100);
  step('b', 'compensated', 100);
  step('a', 'compensated', 100);
  state('compensating', 'compensated', 100);
  return recorder;
}

describe('run assertions', () => {
  it('pass when the recorded run matches', () => {
    const recorder = recorded();
    assertTransitions(recorder, 'r1', ['pending', 'running', 'compensating', 'compensated']);
    assertTransitions(recorder, undefined, ['pending', 'running', 'compensating', 'compensated']);
    assertCompensationOrder(recorder, ['b', 'a']);
    assertStateAt(recorder, 'r1', 99, 'running');
    assertAttemptTimes(recorder, 's', [0, 100]);
  });

  it('throw an AssertionError saying what was expected and what was found', async () => {
    const recorder = recorded();
    const t = await assertionError(() =>
      assertTransitions(recorder, 'r1', ['pending', 'running', 'completed']),
    );
    expect(t.message).toBe(
      'run r1: expected transitions ["pending","running","completed"], found ["pending","running","compensating","compensated"]',
    );
    expect(t.actual).toEqual(['pending', 'running', 'compensating', 'compensated']);
    const c = await assertionError(() => assertCompensationOrder(recorder, ['a', 'b']));
    expect(c.message).toBe('expected compensation order ["a","b"], found ["b","a"]');
    const s = await assertionError(() => assertStateAt(recorder, 'r1', 100, 'running'));
    expect(s.message).toMatch(/expected state "running" at t=100, found "compensated"/);
    const a = await assertionError(() => assertAttemptTimes(recorder, 's', [0, 50]));
    expect(a.message).toBe('step "s": expected attempts at [0,50], found [0,100]');
  });

  it('check a RunResult directly', async () => {
    const result: RunResult = {
      runId: 'r9',
      workflowId: 'w',
      status: 'failed',
      outputs: {},
      error: { name: 'TroupeError', code: 'PERMANENT', message: 'boom', retryable: false },
      compensated: ['c'],
      compensationFailures: [
        { stepId: 'b', error: { name: 'E', code: 'TRANSIENT', message: 'x', retryable: true } },
      ],
      deferred: [],
      checkpointIssues: [],
    };
    assertCompensationOrder(result, ['c']);
    const c = await assertionError(() => assertCompensationOrder(result, ['c', 'b']));
    expect(c.message).toBe(
      'expected compensation order ["c","b"], found ["c"]; compensations that failed: ["b"]',
    );
    const r = await assertionError(() => assertRunStatus(result, 'completed'));
    expect(r.message).toBe('run r9 of "w": expected status "completed", found "failed" (PERMANENT: boom)');
  });
});

describe('assertNoOrphanedEntities', () => {
  it('accepts agents on stored or predefined roles with their resolved files', async () => {
    const store = new MemoryStore();
    await store.put('personalities', { id: 'calm' });
    await store.put('roles', { id: 'reviewer' });
    await store.put('agents', { id: 'a1', personalityId: 'calm', roleId: 'reviewer' });
    await store.put('agents', { id: 'a2', personalityId: 'calm', roleId: 'analyst' });
    await store.put('resolved', { id: 'a1' });
    await assertNoOrphanedEntities(store);
  });

  it('lists every orphan of a broken store', async () => {
    const store = new MemoryStore();
    await store.put('personalities', { id: 'calm' });
    await store.put('agents', { id: 'a1', personalityId: 'ghost', roleId: 'analyst' });
    await store.put('agents', { id: 'a2', personalityId: 'calm', roleId: 'nope' });
    await store.put('resolved', { id: 'gone' });
    const e = await assertionError(() => assertNoOrphanedEntities(store));
    expect(e.message).toBe(
      [
        'expected no orphaned entities, found 3:',
        '  resolved/gone.json: no agent "gone"',
        '  agents/a1.json: personalityId "ghost" does not exist',
        '  agents/a2.json: roleId "nope" is neither stored nor predefined',
      ].join('\n'),
    );
  });
});

describe('assertReferencesIntact', () => {
  async function cast() {
    const { services, store, faults } = createFakeServices();
    const p = await services.personalities.create(samplePersonality);
    const r = await services.roles.create(sampleRole);
    for (const id of ['a1', 'a2'])
      await store.commit(services.agents.prepareCreate(sampleAgent(id), p, r, {}, undefined).ops);
    return { services, store, faults };
  }

  it('passes on a consistent cast without faulting or counting calls', async () => {
    const { services, faults } = await cast();
    const before = faults.calls.length;
    faults.makeUnavailable('agents').makeUnavailable('store');
    await assertReferencesIntact(services);
    await assertNoOrphanedEntities(services);
    expect(faults.calls.length).toBe(before);
  });

  it('names a hand-edited resolved file, a missing personality and an unknown model', async () => {
    const { services, store } = await cast();
    const resolved = await store.inner.get('resolved', 'a1');
    const configuration = { ...(resolved!.configuration as object), systemPrompt: 'Edited by hand.' };
    await store.inner.put('resolved', { ...resolved!, configuration });
    const a2 = await store.inner.get('agents', 'a2');
    await store.inner.put('agents', { ...a2!, model: { provider: 'openai', modelId: 'gpt-9' } });
    const e = await assertionError(() => assertReferencesIntact(services));
    expect(e.message).toMatch(/^expected intact references, found 2 problem\(s\):/);
    expect(e.message).toContain('resolved/a1.json was edited by hand');
    expect(e.message).toContain('agents/a2.json: model "openai/gpt-9" is not in the catalog');
    await store.inner.delete('personalities', 'calm');
    const again = await assertionError(() => assertReferencesIntact(services));
    expect(again.message).toContain('agents/a1.json: personality "calm" does not exist');
  });

  it('accepts stale agents unless told not to', async () => {
    const { services } = await cast();
    await createServices(services.store).personalities.update('calm', { bigFive: { openness: 90 } });
    await assertReferencesIntact(services);
    const e = await assertionError(() => assertReferencesIntact(services, { allowStale: false }));
    expect(e.message).toContain(
      'agents/a1.json: stale: personality "calm" changed (composed against r1, now r2)',
    );
  });
});

describe('assertStoreEquals', () => {
  it('reports added, changed and removed documents', async () => {
    const store = new MemoryStore({ now: () => 0 });
    await store.put('personalities', { id: 'a' });
    await store.put('personalities', { id: 'b' });
    const before = await snapshotStore(store);
    await assertStoreEquals(store, before);
    await store.put('personalities', { id: 'a', name: 'A' });
    await store.delete('personalities', 'b');
    await store.put('roles', { id: 'c' });
    const e = await assertionError(() => assertStoreEquals(store, before));
    expect(e.message).toBe(
      [
        'expected the store to equal the snapshot, found 3 difference(s):',
        '  personalities/a: changed (revision 1 → 2)',
        '  personalities/b: removed',
        '  roles/c: added (revision 1)',
      ].join('\n'),
    );
  });
});

describe('the kit', () => {
  it('imports no test framework outside its tests', () => {
    const dir = import.meta.dirname;
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) =>
        /from ['"](vitest|jest|@jest\/[^'"]*|node:test)['"]/.test(readFileSync(join(dir, f), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});
