import { AgentService } from '../services/agent-service.js';
import { FileService } from '../services/file-service.js';
import { ModelService } from '../services/model-service.js';
import { PersonalityService } from '../services/personality-service.js';
import { RoleService } from '../services/role-service.js';
import type { Store } from '../storage/store.js';

/** The set of services the ConfigurationService coordinates, all over one store. */
export interface Services {
  store: Store;
  personalities: PersonalityService;
  roles: RoleService;
  agents: AgentService;
  models: ModelService;
  files: FileService;
}

/**
 * The five entity services over one store, as the ConfigurationService builds them. Writes made
 * through them directly change one entity each; the ConfigurationService's workflows keep agents
 * and resolved files in step with the personalities, roles and models they use.
 *
 * @example
 * ```ts
 * const services = createServices(new MemoryStore());
 * const calm = await services.personalities.createFromPreset('calm-analyst');
 * const roles = await services.roles.list(); // predefined and custom roles, by id
 * const config = new ConfigurationService(services.store, { services });
 * ```
 */
export function createServices(store: Store): Services {
  return {
    store,
    personalities: new PersonalityService(store),
    roles: new RoleService(store),
    agents: new AgentService(store),
    models: new ModelService(store),
    files: new FileService(store),
  };
}
