import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { Model, ModelInput } from '../../domain/model.js';
import { entityRoutes } from '../entity-routes.js';
import type { Route } from '../route.js';

/** /models: the catalog (shipped entries and the directory's own); settings name env variables. */
export const modelRoutes = (config: ConfigurationService): Route[] =>
  entityRoutes(
    {
      noun: 'models',
      one: 'model',
      entity: Model,
      input: ModelInput,
      // The whole catalog, as `troupe models list` shows it: shipped entries (no revision, so
      // no ETag) and the directory's own, which override a shipped one of the same id.
      reads: (c) => ({
        list: () => c.services.models.catalog(),
        get: (id) => c.services.models.byId(id),
      }),
      create: (c, body, req) => c.createModel(fromOutside(body), { signal: req.signal }),
      update: async (c, id, patch, expectedRevision, req) =>
        (await c.updateModel(id, fromOutside(patch), { expectedRevision, signal: req.signal })).model,
      remove: (c, id, expectedRevision, req) => c.deleteModel(id, { expectedRevision, signal: req.signal }),
    },
    config,
  );
