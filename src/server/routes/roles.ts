import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { Role, RoleInput } from '../../domain/role.js';
import { entityRoutes } from '../entity-routes.js';
import type { Route } from '../route.js';
import { DELETE_QUERY, deleteModeOf } from './delete-mode.js';

/** /roles: custom roles and the predefined ones (read-only); `?template=` creates from one. */
export const roleRoutes = (config: ConfigurationService): Route[] =>
  entityRoutes(
    {
      noun: 'roles',
      one: 'role',
      entity: Role,
      input: RoleInput,
      reads: (c) => c.services.roles,
      create: (c, body, req) => {
        const template = req.query('template');
        return c.createRole(fromOutside(body), { ...(template ? { template } : {}), signal: req.signal });
      },
      update: async (c, id, patch, expectedRevision, req) =>
        (await c.updateRole(id, fromOutside(patch), { expectedRevision, signal: req.signal })).role,
      remove: (c, id, expectedRevision, req) =>
        c.deleteRole(id, deleteModeOf(req), { expectedRevision, signal: req.signal }),
      createQuery: { template: 'a predefined role to start from (the body overrides its fields)' },
      removeQuery: DELETE_QUERY,
    },
    config,
  );
