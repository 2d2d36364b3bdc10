import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { Personality, PersonalityInput } from '../../domain/personality.js';
import { entityRoutes } from '../entity-routes.js';
import type { Route } from '../route.js';
import { DELETE_QUERY, deleteModeOf } from './delete-mode.js';

/** /personalities: each one's Big Five, and the agents that use it re-composed on change. */
export const personalityRoutes = (config: ConfigurationService): Route[] =>
  entityRoutes(
    {
      noun: 'personalities',
      one: 'personality',
      entity: Personality,
      input: PersonalityInput,
      reads: (c) => c.services.personalities,
      create: (c, body, req) => c.createPersonality(fromOutside(body), { signal: req.signal }),
      update: async (c, id, patch, expectedRevision, req) =>
        (await c.updatePersonality(id, fromOutside(patch), { expectedRevision, signal: req.signal }))
          .personality,
      remove: (c, id, expectedRevision, req) =>
        c.deletePersonality(id, deleteModeOf(req), { expectedRevision, signal: req.signal }),
      removeQuery: DELETE_QUERY,
    },
    config,
  );
