import { isTroupeError, TroupeError, validationError } from '../domain/errors.js';
import { otherProvidersNaming } from '../services/model-service.js';
import type { Services } from './services.js';

/**
 * Model settings that name a model but no provider get the provider the catalog serves it
 * from (`{ modelId: 'gpt-4o' }` → openai). A name the catalog does not know is NOT_FOUND with
 * "did you mean", at `model.modelId`, when `required` (a create); an update leaves it to the
 * schema. Returns a copy; the input is not changed.
 */
export async function withProvider<T>(s: Services, input: T, required: boolean): Promise<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const model = (input as { model?: unknown }).model;
  if (model === null || typeof model !== 'object' || Array.isArray(model)) return input;
  const m = model as { provider?: unknown; modelId?: unknown };
  if (m.provider !== undefined || typeof m.modelId !== 'string') return input;
  const found = await s.models.find(m.modelId);
  if (found) {
    const others = otherProvidersNaming(await s.models.catalog(), m.modelId, found);
    if (others.length) {
      const all = [found, ...others].sort((a, b) => a.provider.localeCompare(b.provider));
      const named = all.map((o) => `${o.provider} (model "${o.id}")`).join(', ');
      const message = `"${m.modelId}" names models of several providers: ${named}; say which with model.provider (--provider), or name the model by its id`;
      throw validationError(`model.modelId: ${message}`, [{ path: 'model.modelId', message }], {
        modelId: m.modelId,
        providers: all.map((o) => o.provider),
      });
    }
    return { ...input, model: { ...m, provider: found.provider } };
  }
  if (!required) return input;
  try {
    await s.models.resolve(m.modelId);
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    throw new TroupeError('NOT_FOUND', `model.modelId: ${e.message}`, {
      cause: e,
      context: e.context,
      issues: [{ path: 'model.modelId', message: e.message }],
    });
  }
  return input;
}
