export { Bundle, type BundlePlan, type EntityChange } from './bundle.js';
export {
  ConfigurationService,
  type ConfigurationServiceOptions,
  type CreateAgentRequest,
  type UpdateOptions,
} from './configuration-service.js';
export {
  type ConflictEntry,
  type ConflictStrategy,
  MERGE_RULES,
  type MergeRule,
  resolveConflict,
  STRATEGIES,
} from './conflict.js';
export type { Inconsistency, InconsistencyKind } from './consistency.js';
export type { DeleteMode } from './delete.js';
export { diffFields, type FieldChange } from './diff.js';
export { type SyncState, syncStates } from './drift.js';
export { type BuiltInOperations, buildOperations } from './handlers.js';
export type { MergePatch, NewAgent, TroupeBundle } from './inputs.js';
export { fromOutside } from './inputs.js';
export { checkScope, type IntegrityLevel } from './integrity.js';
export { createServices, type Services } from './services.js';
export { applyUndo, commitWithUndo, type UndoableCommit, type UndoOp } from './undo.js';
export * from './workflows.js';
