export { Bundle, type BundlePlan, type EntityChange } from './bundle.js';
export { ConfigurationService, type ConfigurationServiceOptions } from './configuration-service.js';
export type { Inconsistency, InconsistencyKind } from './consistency.js';
export type { CreateAgentRequest } from './create-agent.js';
export type { DeleteMode } from './delete.js';
export { diffFields, type FieldChange } from './diff.js';
export { createServices, type Services } from './services.js';
