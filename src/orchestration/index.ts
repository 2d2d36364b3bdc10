export { type StepOptions, WorkflowBuilder, workflow } from './builder.js';
export { type Clock, cancelledError, realClock, VirtualClock } from './clock.js';
export { type CompensationResult, compensate, compensationOrder } from './compensation.js';
export {
  CircuitBreakerDefinition,
  defineWorkflow,
  isValidatedDefinition,
  Json,
  PolicyDefinition,
  type PolicyDefinitionInput,
  RECOVERIES,
  type Recovery,
  RetryDefinition,
  StepDefinition,
  type StepDefinitionInput,
  WorkflowDefinition,
  type WorkflowDefinitionInput,
  workflowJsonSchema,
} from './definition.js';
export {
  type CheckpointPhase,
  type CheckpointRecord,
  type CompensationFailure,
  type DeferredStep,
  Emitter,
  RUN_STATES,
  type RunnerEvents,
  type RunResult,
  type RunState,
  type RunStatus,
  type StateChangeEvent,
  type StepEvent,
  type StepEventKind,
} from './events.js';
export { DEFAULT_DEFER_MS } from './execution.js';
export { FileRunLog, parseRunLines } from './file-run-log.js';
export { ancestors, dependents, downstream, findCycle } from './graph.js';
export type { Checkpoint, CheckpointContext, Handler, ServiceHandlers, StepContext } from './handlers.js';
export { Bulkhead, type BulkheadOptions } from './policies/bulkhead.js';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  countsAsFailure,
} from './policies/circuit-breaker.js';
export { executeFallback, type FallbackDefinition, shouldFallback } from './policies/fallback.js';
export {
  attemptEvents,
  type Call,
  type CallEvents,
  effectivePolicy,
  type Policy,
  startCall,
  wrap,
} from './policies/policy.js';
export { capture, codeOf, fail, isRetryable, ok, type Result } from './policies/result.js';
export { executeWithRetry, type RetryEnv, type RetryOptions, retry, retryDelay } from './policies/retry.js';
export { executeWithTimeout, timeout } from './policies/timeout.js';
export { mathRandom, type Random, seededRandom } from './random.js';
export { DEFAULT_SENSITIVE, REDACTED, Redactor, redact } from './redact.js';
export {
  collectRefs,
  hasRefs,
  isRef,
  type ParsedRef,
  parseRef,
  type RefObject,
  type RefScope,
  ref,
  resolveRef,
  resolveRefs,
  stepOutput,
  workflowInput,
} from './refs.js';
export {
  type AttemptRecord,
  foldRunEvents,
  MemoryRunLog,
  RUN_ID,
  type RunEvent,
  type RunLog,
  type RunOutcome,
  type RunRecord,
  type RunSummary,
  type StepRecord,
  type StepStatus,
  summarize,
} from './run-log.js';
export { type RunnerOptions, type RunOptions, WorkflowRunner } from './runner.js';
