/**
 * Troupe: keeps the configuration of a cast of AI agents (personalities, roles, agents,
 * models) valid, consistent and safe, and runs every change that spans them as a workflow.
 *
 * The public entry holds what an application needs, by room: the ConfigurationService and the
 * services it coordinates, the stores, one zod schema per entity (a value and a type of the
 * same name), errors, and the workflow engine (runner, builder, run logs). Everything else is
 * internal and may change; the testing kit is `troupe/testing`.
 *
 * @example
 * ```ts
 * import { ConfigurationService, FileStore } from 'troupe';
 *
 * const config = new ConfigurationService(await FileStore.open('./.troupe-config'));
 * const calm = await config.createPersonality({ bigFive: { openness: 80 } }, { preset: 'calm-analyst' });
 * ```
 */

// Configuration: the service that coordinates the others in all-or-nothing changes.
export type { Bundle, BundlePlan, EntityChange } from './configuration/bundle.js';
export {
  type Cancellable,
  ConfigurationService,
  type ConfigurationServiceOptions,
  type CreateAgentRequest,
  type UpdateOptions,
} from './configuration/configuration-service.js';
export type { ConflictEntry, ConflictStrategy, MergeRule } from './configuration/conflict.js';
export type { Inconsistency, InconsistencyKind } from './configuration/consistency.js';
export { DEFAULT_SERVICE_POLICY, defaultPolicies } from './configuration/default-policy.js';
export type { DeleteMode } from './configuration/delete.js';
export type { SyncState } from './configuration/drift.js';
export { fromOutside, type MergePatch, type NewAgent, type TroupeBundle } from './configuration/inputs.js';
export { createServices, type Services } from './configuration/services.js';
export { BUILT_IN_WORKFLOWS } from './configuration/workflows.js';
// Domain: one zod schema per entity, its type of the same name.
export { Agent, AgentInput, ModelSettings } from './domain/agent.js';
export { formatIssues } from './domain/common.js';
export { ERROR_CODES, type ErrorCode, type Issue, isTroupeError, TroupeError } from './domain/errors.js';
export { jsonSchemas } from './domain/json-schema.js';
export { Model, ModelInput, PROVIDERS, type Provider } from './domain/model.js';
export { BEHAVIOR_TRAITS, BIG_FIVE_TRAITS, Personality, PersonalityInput } from './domain/personality.js';
export { ResolvedConfiguration, ResolvedFile, ResolvedModel } from './domain/resolved.js';
export { Role, RoleInput } from './domain/role.js';
// Workflows: definitions, the builder, the runner and its run logs.
export { type StepInput, type TypedWorkflow, WorkflowBuilder, workflow } from './orchestration/builder.js';
export { type Clock, VirtualClock } from './orchestration/clock.js';
export {
  defineWorkflow,
  type PolicyDefinition,
  type StepDefinition,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
  workflowJsonSchema,
} from './orchestration/definition.js';
export type { RunResult, RunState, RunStatus, StepEvent } from './orchestration/events.js';
export { FileRunLog } from './orchestration/file-run-log.js';
export type { Handler, ServiceHandlers, StepContext } from './orchestration/handlers.js';
export type { ClaimOptions, RunLease } from './orchestration/lease.js';
export {
  defineOperations,
  type InputOf,
  type Operation,
  type Operations,
  type OperationTable,
  type OutputOf,
  operation,
} from './orchestration/operations.js';
export { stepOutput, workflowInput } from './orchestration/refs.js';
export {
  MemoryRunLog,
  type RunEvent,
  type RunLog,
  type RunRecord,
  type RunSummary,
} from './orchestration/run-log.js';
export { type RunnerOptions, type RunOptions, WorkflowRunner } from './orchestration/runner.js';
// Services: one per entity kind, each over a Store.
export { AgentService } from './services/agent-service.js';
export { FileService } from './services/file-service.js';
export { ModelService } from './services/model-service.js';
export { PersonalityService } from './services/personality-service.js';
export { RoleService } from './services/role-service.js';
// Storage: the Store interface and its adapters.
export { FileStore, type FileStoreOptions } from './storage/file/index.js';
export { MemoryStore } from './storage/memory/index.js';
export type {
  BatchOp,
  CommitOptions,
  CommitResult,
  Kind,
  Store,
  StoredDoc,
  StoreOptions,
} from './storage/store.js';
