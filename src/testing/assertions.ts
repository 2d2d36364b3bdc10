import { AssertionError } from 'node:assert';
import { isDeepStrictEqual as deepEqual } from 'node:util';
import { createServices, type Services } from '../configuration/services.js';
import type { Agent } from '../domain/agent.js';
import type { RunResult, RunState, RunStatus } from '../orchestration/events.js';
import type { RunRecord } from '../orchestration/run-log.js';
import { KINDS, type Kind, type Store, type StoredDoc } from '../storage/store.js';
import { FaultyStore } from './fakes.js';
import { WorkflowRecorder } from './recorder.js';

/** Throws node's AssertionError, so every test runner reports it as a failed assertion. */
function fail(
  message: string,
  actual: unknown,
  expected: unknown,
  stackStartFn: (...args: never[]) => unknown,
): never {
  // Named after the assertion: for 'deepStrictEqual' node would append its own diff to the message.
  throw new AssertionError({ message, actual, expected, operator: stackStartFn.name, stackStartFn });
}

const show = (v: unknown) => JSON.stringify(v);

const isServices = (v: Store | Services): v is Services => 'personalities' in v && 'store' in v;

/** The store under a Store or Services, past any FaultyStore, so assertions are neither faulted nor counted. */
function bareStore(from: Store | Services): Store {
  let store = isServices(from) ? from.store : from;
  while (store instanceof FaultyStore) store = store.inner;
  return store;
}

/**
 * A run's states, in order, are exactly `expected` (`runId` undefined: the latest run recorded).
 *
 * @example
 * ```ts
 * tc.faults.failNext('configuration', 1, 'PERMANENT', 'verify');
 * await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') })).catch(() => {});
 * assertTransitions(tc.recorder, undefined, ['pending', 'running', 'compensating', 'compensated']);
 * ```
 */
export function assertTransitions(
  recorder: WorkflowRecorder,
  runId: string | undefined,
  expected: readonly RunState[],
): void {
  const actual = recorder.transitions(runId);
  if (!deepEqual(actual, expected))
    fail(
      `run ${runId ?? recorder.lastRunId ?? '(none recorded)'}: expected transitions ${show(expected)}, found ${show(actual)}`,
      actual,
      expected,
      assertTransitions,
    );
}

/**
 * A run's state at virtual time `at` is `expected` (`runId` undefined: the latest run recorded).
 *
 * @example
 * ```ts
 * tc.faults.addLatency('personality', 200); // every personality step takes 200 ms
 * await tc.drive(tc.config.createPersonality(samplePersonality));
 * assertStateAt(tc.recorder, undefined, 100, 'running');
 * ```
 */
export function assertStateAt(
  recorder: WorkflowRecorder,
  runId: string | undefined,
  at: number,
  expected: RunState,
): void {
  const actual = recorder.stateAt(at, runId);
  if (actual !== expected)
    fail(
      `run ${runId ?? recorder.lastRunId ?? '(none recorded)'}: expected state "${expected}" at t=${at}, found ${actual === undefined ? 'no state yet' : `"${actual}"`} (transitions: ${show(recorder.stateChanges(runId).map((e) => `${e.to}@${e.at}`))})`,
      actual,
      expected,
      assertStateAt,
    );
}

/**
 * Steps were compensated in exactly this order (from a RunResult, a RunRecord or a recorder).
 *
 * @example
 * ```ts
 * const result = await clock.drive(runner.run(def));
 * assertCompensationOrder(result, ['b', 'a']); // the reverse of the order they completed in
 * ```
 */
export function assertCompensationOrder(
  source: RunResult | RunRecord | WorkflowRecorder,
  expected: readonly string[],
  runId?: string,
): void {
  const actual = source instanceof WorkflowRecorder ? source.compensationOrder(runId) : source.compensated;
  if (!deepEqual(actual, expected)) {
    const failures =
      source instanceof WorkflowRecorder
        ? source.compensationFailures(runId)
        : source.compensationFailures.map((f) => f.stepId);
    fail(
      `expected compensation order ${show(expected)}, found ${show(actual)}${failures.length ? `; compensations that failed: ${show(failures)}` : ''}`,
      actual,
      expected,
      assertCompensationOrder,
    );
  }
}

/**
 * A run ended with `expected`; the message carries the run's error if it did not.
 *
 * @example
 * ```ts
 * const result = await clock.drive(runner.run(def, { to: 'ada' }));
 * assertRunStatus(result, 'completed');
 * ```
 */
export function assertRunStatus(result: RunResult, expected: RunStatus): void {
  if (result.status !== expected)
    fail(
      `run ${result.runId} of "${result.workflowId}": expected status "${expected}", found "${result.status}"${result.error ? ` (${result.error.code}: ${result.error.message})` : ''}`,
      result.status,
      expected,
      assertRunStatus,
    );
}

/**
 * A step's attempts started at exactly these virtual times (`runId` left out: the latest run that
 * has the step).
 *
 * @example
 * ```ts
 * // policy: { retry: { maxAttempts: 3, baseDelayMs: 100 } }; the first two attempts fail TRANSIENT
 * await clock.drive(runner.run(def));
 * assertAttemptTimes(recorder, 'call', [0, 100, 300]);
 * ```
 */
export function assertAttemptTimes(
  recorder: WorkflowRecorder,
  stepId: string,
  expected: readonly number[],
  runId?: string,
): void {
  const actual = recorder.attemptTimes(stepId, runId);
  if (!deepEqual(actual, expected))
    fail(
      `step "${stepId}": expected attempts at ${show(expected)}, found ${show(actual)}`,
      actual,
      expected,
      assertAttemptTimes,
    );
}

/**
 * No entity is left dangling: every `resolved/<id>` has its agent, and every agent's
 * personality and role exist (a role may be predefined). Lists every problem found.
 *
 * @example
 * ```ts
 * tc.store.crashNextCommit();
 * await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') })).catch(() => {});
 * await assertNoOrphanedEntities(tc.store);
 * ```
 */
export async function assertNoOrphanedEntities(from: Store | Services): Promise<void> {
  const store = bareStore(from);
  const roles = createServices(store).roles;
  const [agents, resolved, personalities, stored] = await Promise.all([
    store.list('agents'),
    store.list('resolved'),
    store.list('personalities'),
    store.list('roles'),
  ]);
  const agentIds = new Set(agents.map((a) => a.id));
  const personalityIds = new Set(personalities.map((p) => p.id));
  const roleIds = new Set(stored.map((r) => r.id));
  const problems: string[] = [];
  for (const r of resolved)
    if (!agentIds.has(r.id)) problems.push(`resolved/${r.id}.json: no agent "${r.id}"`);
  for (const a of agents) {
    const { personalityId, roleId } = a as { personalityId?: unknown; roleId?: unknown };
    if (typeof personalityId !== 'string' || !personalityIds.has(personalityId))
      problems.push(`agents/${a.id}.json: personalityId ${show(personalityId)} does not exist`);
    if (typeof roleId !== 'string' || !(roleIds.has(roleId) || roles.isPredefined(roleId)))
      problems.push(`agents/${a.id}.json: roleId ${show(roleId)} is neither stored nor predefined`);
  }
  if (problems.length > 0)
    fail(
      `expected no orphaned entities, found ${problems.length}:\n  ${problems.join('\n  ')}`,
      problems,
      [],
      assertNoOrphanedEntities,
    );
}

/**
 * Every agent's references hold: its personality, role and model exist, and its resolved
 * file is present, unedited and matches its configurationHash. With `allowStale: false`
 * agents must also be composed against the current content of their personality, role and model.
 *
 * @example
 * ```ts
 * await tc.drive(tc.config.updatePersonality('calm', { bigFive: { openness: 90 } }));
 * await assertReferencesIntact(tc.services, { allowStale: false }); // every agent on it was re-composed
 * ```
 */
export async function assertReferencesIntact(
  services: Services,
  opts: { allowStale?: boolean } = {},
): Promise<void> {
  // Fresh services over the bare store: checking must neither hit faults nor count as calls.
  const store = bareStore(services);
  const s = createServices(store);
  const problems: string[] = [];
  for (const doc of await store.list('agents')) {
    let agent: Agent;
    try {
      agent = s.agents.fromDoc(doc);
    } catch (e) {
      problems.push(`agents/${doc.id}.json: unreadable: ${(e as Error).message}`);
      continue;
    }
    const where = `agents/${agent.id}.json`;
    const personality = await s.personalities.get(agent.personalityId);
    const role = await s.roles.get(agent.roleId);
    if (!personality) problems.push(`${where}: personality "${agent.personalityId}" does not exist`);
    if (!role) problems.push(`${where}: role "${agent.roleId}" does not exist`);
    const model = await s.models.find(agent.model.modelId, agent.model.provider);
    if (!model)
      problems.push(`${where}: model "${agent.model.provider}/${agent.model.modelId}" is not in the catalog`);
    const resolvedDoc = await store.get('resolved', agent.id);
    let mismatch: string | undefined;
    try {
      mismatch = s.files.check(agent, resolvedDoc && s.files.fromDoc(resolvedDoc))?.message;
    } catch (e) {
      mismatch = `resolved/${agent.id}.json: unreadable: ${(e as Error).message}`;
    }
    if (mismatch) problems.push(mismatch);
    const drift = personality && role ? s.agents.drift(agent, personality, role, model) : [];
    if (opts.allowStale === false && drift.length) problems.push(`${where}: stale: ${drift.join('; ')}`);
  }
  if (problems.length > 0)
    fail(
      `expected intact references, found ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      problems,
      [],
      assertReferencesIntact,
    );
}

/** Every stored document by kind: a before-state to compare against with `assertStoreEquals`. */
export type StoreSnapshot = Record<Kind, StoredDoc[]>;

/**
 * Read every kind of a store (past any FaultyStore), to compare with later by `assertStoreEquals`.
 *
 * @example
 * ```ts
 * const before = await snapshotStore(tc.store);
 * ```
 */
export async function snapshotStore(from: Store | Services): Promise<StoreSnapshot> {
  const store = bareStore(from);
  const lists = await Promise.all(KINDS.map((k) => store.list(k)));
  return Object.fromEntries(KINDS.map((k, i) => [k, lists[i] ?? []])) as StoreSnapshot;
}

/** Fields that record history rather than content: a rollback moves them forward. */
const HISTORY_FIELDS = ['revision', 'createdAt', 'updatedAt', 'commit', 'personalityVersion', 'roleVersion'];

/** A copy without history fields, at any depth (a resolved file names the revisions it used). */
const withoutHistory = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(withoutHistory);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([f]) => !HISTORY_FIELDS.includes(f))
      .map(([f, x]) => [f, withoutHistory(x)]),
  );
};

const contentOf = (snap: StoreSnapshot): StoreSnapshot =>
  Object.fromEntries(
    Object.entries(snap).map(([k, docs]) => [
      k,
      docs.map((d) => ({ ...(withoutHistory(d) as object), id: d.id })),
    ]),
  ) as StoreSnapshot;

/**
 * The store holds exactly the snapshot's documents, revisions and timestamps included; with
 * `{ content: true }`, only their content: a compensated update writes the old content back
 * as a new revision (revisions only move forward), which this accepts.
 *
 * @example
 * ```ts
 * const before = await snapshotStore(tc.store);
 * tc.faults.failNext('configuration', 1, 'PERMANENT', 'verify');
 * await tc.drive(tc.config.updatePersonality('calm', { bigFive: { openness: 90 } })).catch(() => {});
 * await assertStoreEquals(tc.store, before, { content: true }); // the update was undone
 * ```
 */
export async function assertStoreEquals(
  from: Store | Services,
  snapshot: StoreSnapshot,
  opts: { content?: boolean } = {},
): Promise<void> {
  const raw = await snapshotStore(from);
  const actual = opts.content ? contentOf(raw) : raw;
  const expected = opts.content ? contentOf(snapshot) : snapshot;
  const diffs: string[] = [];
  for (const kind of KINDS) {
    const before = new Map(expected[kind].map((d) => [d.id, d]));
    const after = new Map(actual[kind].map((d) => [d.id, d]));
    for (const [id, d] of after) {
      const was = before.get(id);
      if (!was) diffs.push(`${kind}/${id}: added (revision ${d.revision})`);
      else if (!deepEqual(was, d))
        diffs.push(
          opts.content
            ? `${kind}/${id}: content changed`
            : `${kind}/${id}: changed (revision ${was.revision} → ${d.revision})`,
        );
    }
    for (const id of before.keys()) if (!after.has(id)) diffs.push(`${kind}/${id}: removed`);
  }
  if (diffs.length > 0)
    fail(
      `expected the store to equal the snapshot, found ${diffs.length} difference(s):\n  ${diffs.join('\n  ')}`,
      actual,
      expected,
      assertStoreEquals,
    );
}
