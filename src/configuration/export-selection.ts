import { type Issue, TroupeError, validationError } from '../domain/errors.js';
import { entityFile } from '../services/entity-service.js';
import { matchIn } from '../services/model-service.js';
import type { Store } from '../storage/store.js';
import { requireRef } from './references.js';
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
  // An agent's dependency that is not there is said as the agent's field that names it.
  const from = (field: 'personalityId' | 'roleId') =>
    sel.kind === 'agent'
      ? { entity: `agent "${sel.id}"`, field, file: entityFile('agents', sel.id, s.store) }
      : undefined;
  const personality = async (id: string) => {
    const f = from('personalityId');
    const p = f ? await requireRef(s.personalities, id, f) : await s.personalities.require(id);
    bundle.personalities.push(s.personalities.editable(p));
  };
  const role = async (id: string) => {
    const f = from('roleId');
    const r = f ? await requireRef(s.roles, id, f) : await s.roles.require(id);
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

/**
 * Refuses a bundle of the whole configuration whose agents name a personality or role that is
 * neither in it nor shipped with troupe (its file deleted by hand): it would not apply
 * anywhere, so it is no export of the configuration. Each agent and field is named.
 */
export function refuseDangling(
  bundle: {
    personalities: Record<string, unknown>[];
    roles: Record<string, unknown>[];
    agents: Record<string, unknown>[];
  },
  predefinedRoles: ReadonlySet<string>,
  store?: Pick<Store, 'placeOf'>,
): void {
  const personalities = new Set(bundle.personalities.map((p) => String(p.id)));
  const roles = new Set([...bundle.roles.map((r) => String(r.id)), ...predefinedRoles]);
  const issues: Issue[] = [];
  for (const a of bundle.agents) {
    const id = String(a.id);
    const file = entityFile('agents', id, store);
    if (!personalities.has(String(a.personalityId)))
      issues.push({
        file,
        entity: id,
        path: 'personalityId',
        message: `personality "${String(a.personalityId)}" does not exist`,
      });
    if (!roles.has(String(a.roleId)))
      issues.push({ file, entity: id, path: 'roleId', message: `role "${String(a.roleId)}" does not exist` });
  }
  if (issues.length)
    throw validationError(
      `the bundle would not apply anywhere: ${issues.map((i) => `${i.file}: ${i.path}: ${i.message}`).join('; ')}. Restore what is missing, or point the agent at another (troupe agent update ID --personality ID / --role ID)`,
      issues,
    );
}
