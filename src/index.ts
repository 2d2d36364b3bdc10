/**
 * Troupe: keeps the configuration of a cast of AI agents (personalities, roles, agents)
 * valid, consistent and safe on disk. The public entry: every layer's public names.
 */

// Configuration: the ConfigurationService that coordinates the services in all-or-nothing changes.
export * from './configuration/index.js';
// Domain: one zod schema per entity (a value and a type of the same name) and pure functions.
export * from './domain/agent.js';
export * from './domain/canonical.js';
export {
  assertValidId,
  EntityId,
  formatIssues,
  ID_PATTERN,
  META_KEYS,
  Meta,
  parseOrThrow,
  Score,
  slugify,
  toIssues,
} from './domain/common.js';
export * from './domain/errors.js';
export * from './domain/json-schema.js';
export * from './domain/model.js';
export * from './domain/personality.js';
export * from './domain/resolved.js';
export * from './domain/role.js';
// Orchestration: workflow definitions, the runner, its policies, clocks and run logs.
export * from './orchestration/index.js';
// Services: one per entity kind, each over a Store.
export * from './services/index.js';
// Storage: the Store interface and its adapters.
export { FileStore, type FileStoreOptions, type ScanEntry } from './storage/file/index.js';
export { MemoryStore } from './storage/memory/index.js';
export {
  type BatchOp,
  type CommitResult,
  type DocInput,
  KINDS,
  type Kind,
  type Store,
  type StoredDoc,
  type StoreOptions,
  type WriteOptions,
} from './storage/store.js';
