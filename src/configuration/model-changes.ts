import { concurrentModification, notFound, TroupeError } from '../domain/errors.js';
import type { Model } from '../domain/model.js';
import { suggest } from '../domain/suggest.js';
import { modelMatches } from '../services/model-service.js';
import type { BatchOp } from '../storage/store.js';
import type { Services } from './services.js';

/** The agents whose model settings name this model (by its id, provider model id or an alias). */
export async function modelUsers(s: Services, m: Model): Promise<string[]> {
  return (await s.agents.list())
    .filter((a) => modelMatches(m, a.model.modelId, a.model.provider))
    .map((a) => a.id);
}

/** A model of the directory's models/, or the error saying why there is none to change. */
export async function ownModel(s: Services, id: string, verb: string): Promise<Model> {
  const own = await s.models.get(id);
  if (own) return own;
  if (s.models.shipped().some((m) => m.id === id))
    throw new TroupeError(
      'USAGE',
      `model "${id}" ships with troupe and cannot be ${verb}d; add your own to use another (troupe: models add --from FILE; HTTP: POST /api/models)`,
      { context: { kind: 'model', id } },
    );
  const ids = (await s.models.list()).map((m) => m.id);
  throw notFound('model', id, suggest(id, ids));
}

/**
 * Plans removing a model of the directory: refused while agents use it (like a personality),
 * and guarded so an agent created on it meanwhile fails the commit, which is then planned again.
 */
export async function planDeleteModel(
  s: Services,
  id: string,
  opts: { expectedRevision?: number | null | undefined } = {},
): Promise<{ ops: BatchOp[] }> {
  const m = await ownModel(s, id, 'remove');
  if (opts.expectedRevision != null && opts.expectedRevision !== m.revision)
    throw concurrentModification('model', id, opts.expectedRevision, m.revision ?? 0, { retryable: false });
  const users = await modelUsers(s, m);
  if (users.length)
    throw new TroupeError(
      'REFERENCE_IN_USE',
      `model "${id}" is used by ${users.length} agent${users.length > 1 ? 's' : ''}: ${users.join(', ')}; move them to another model first (\`troupe agent update ID --model …\`)`,
      { context: { kind: 'model', id, agents: users } },
    );
  const names = [...new Set([m.id, m.modelId, ...m.aliases])];
  return {
    ops: [
      { op: 'delete', kind: 'models', id, expectedRevision: m.revision ?? 0 },
      ...names.map(
        (name): BatchOp => ({
          op: 'absent',
          kind: 'agents',
          where: { 'model.provider': m.provider, 'model.modelId': name },
        }),
      ),
    ],
  };
}
