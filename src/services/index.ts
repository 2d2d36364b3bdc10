export { suggest } from '../domain/suggest.js';
export { AgentService, type Composed } from './agent-service.js';
export { EntityReader, EntityService, entityFile, type Where } from './entity-service.js';
export { FileService, parseText, type ResolvedMismatch, readInputFile } from './file-service.js';
export { mergePatch } from './merge-patch.js';
export { ModelService } from './model-service.js';
export { PersonalityService } from './personality-service.js';
export { RoleService } from './role-service.js';
