import { TroupeError } from '../domain/errors.js';
import { matchIn } from '../services/model-service.js';
import type { Services } from './services.js';

/** What `export KIND ID` names: one entity, and with `withDeps` what it needs to be applied elsewhere. */
export interface ExportSelection {
  kind: 'personality' | 'role' | 'agent' | 'model';
  id: string;
  withDeps?: boolean;
}

export const EXPORT_KINDS = ['personality', 'role', 'agent', 'model'] as const;

/**
 * The bundle of a selection. An agent's dependencies are its personality, its role when it is
 * a custom one (predefined roles ship with troupe) and its model when the directory defines it.
 */
export async function exportSelection(s: Services, sel: ExportSelection) {
  const bundle = {
    personalities: [] as Record<string, unknown>[],
    roles: [] as Record<string, unknown>[],
    models: [] as Record<string, unknown>[],
    agents: [] as Record<string, unknown>[],
  };
  const personality = async (id: string) =>
    bundle.personalities.push(s.personalities.editable(await s.personalities.require(id)));
  const role = async (id: string) => {
    const r = await s.roles.require(id);
    if (r.predefined) {
      if (sel.kind === 'role')
        throw new TroupeError(
          'USAGE',
          `role "${id}" is predefined: it ships with troupe and is never exported`,
        );
      return;
    }
    bundle.roles.push(s.roles.editable(r));
  };
  switch (sel.kind) {
    case 'personality':
      await personality(sel.id);
      break;
    case 'role':
      await role(sel.id);
      break;
    case 'model': {
      const m = await s.models.get(sel.id);
      if (!m)
        throw new TroupeError(
          'USAGE',
          `model "${sel.id}" is not one of the directory's models (models/): nothing to export`,
        );
      bundle.models.push(s.models.editable(m));
      break;
    }
    case 'agent': {
      const a = await s.agents.require(sel.id);
      bundle.agents.push(s.agents.editable(a));
      if (!sel.withDeps) break;
      await personality(a.personalityId);
      await role(a.roleId);
      const own = matchIn(await s.models.list(), a.model.modelId, a.model.provider);
      if (own) bundle.models.push(s.models.editable(own));
      break;
    }
  }
  return bundle;
}
