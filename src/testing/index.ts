/**
 * The testing kit (`troupe/testing`): fakes with fault injection, a virtual-time environment,
 * a workflow recorder, assertions that throw node's AssertionError, and timing helpers.
 * It imports no test framework, so it works under Vitest, Jest and node:test alike.
 *
 * @example
 * ```ts
 * import { assertStoreEquals, createTestConfiguration, sampleAgent, snapshotStore } from 'troupe/testing';
 *
 * const tc = createTestConfiguration();
 * await tc.drive(tc.config.createPersonality({}, { preset: 'calm-analyst' }));
 * const before = await snapshotStore(tc.store);
 * tc.faults.failNext('configuration', 1, 'PERMANENT', 'verify'); // the last step fails
 * const agent = sampleAgent('ada', { personalityId: 'calm-analyst', roleId: 'developer' });
 * await tc.drive(tc.config.createAgent({ agent })).catch(() => {});
 * await assertStoreEquals(tc.store, before); // what the run wrote was undone
 * ```
 */
export {
  assertAttemptTimes,
  assertCompensationOrder,
  assertNoOrphanedEntities,
  assertReferencesIntact,
  assertRunStatus,
  assertStateAt,
  assertStoreEquals,
  assertTransitions,
  type StoreSnapshot,
  snapshotStore,
} from './assertions.js';
export {
  createTestEnvironment,
  pendingTempDirs,
  type TestEnvironment,
  type TestEnvironmentOptions,
  withTestEnvironment,
} from './environment.js';
export {
  createFakeServices,
  type FakeServiceOptions,
  type FakeServices,
  type FakeServicesOptions,
  FaultyStore,
  fakeHandlers,
  fakeService,
  unwrapFake,
} from './fakes.js';
export {
  type CallOutcome,
  type CallRecord,
  type Fault,
  FaultInjector,
  type FaultKind,
  type FaultRule,
  type InvokeOptions,
} from './faults.js';
export {
  type Figure,
  type MeasureOptions,
  measure,
  PLAN_BUDGETS,
  type PlanFigures,
  planFigures,
  type Stats,
  stats,
} from './performance.js';
export { type RecordableRunner, type RecordedAttempt, WorkflowRecorder } from './recorder.js';
export { sampleAgent, samplePersonality, sampleRole } from './samples.js';
export {
  createTestConfiguration,
  type TestConfiguration,
  type TestConfigurationOptions,
} from './test-configuration.js';
