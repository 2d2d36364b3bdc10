import type { ModelSettings } from '../domain/agent.js';
import { type Issue, notFound } from '../domain/errors.js';
import { type Model, ModelInput, Model as ModelSchema, SAMPLING_PARAMETERS } from '../domain/model.js';
import type { Role } from '../domain/role.js';
import { suggest } from '../domain/suggest.js';
import { article } from '../domain/text.js';
import type { Store } from '../storage/store.js';
import { loadShipped } from './data.js';
import { deepFreeze, EntityService } from './entity-service.js';

let shipped: Model[] | undefined;

/** Whether a catalog entry is the one a name (id, provider model id or alias) names, within a provider if given. */
export const modelMatches = (m: Model, name: string, provider?: string): boolean =>
  (m.id === name || m.modelId === name || m.aliases.includes(name)) && (!provider || m.provider === provider);

/**
 * The model catalog: providers and models shipped as data, plus the user's own entries in
 * the config directory's `models/`. A model is found by id, dated model id or alias.
 *
 * @example
 * ```ts
 * const models = new ModelService(store);
 * const sonnet = await models.resolve('claude-sonnet-4', 'anthropic'); // NOT_FOUND, with suggestions
 * sonnet.modelId; // 'claude-sonnet-4-20250514'
 * const role = await new RoleService(store).require('developer');
 * const issues = models.compatibility({ provider: 'anthropic', temperature: 0.3 }, sonnet, role);
 * ```
 */
export class ModelService extends EntityService<Model & { revision: number }> {
  constructor(store: Store) {
    super(store, { kind: 'models', label: 'model', input: ModelInput, stored: ModelSchema });
  }

  /** The shipped catalog: parsed once, deeply frozen, shared (never copied per call). */
  shipped(): readonly Model[] {
    shipped ??= loadShipped<unknown>('models').map((m) => deepFreeze(ModelSchema.parse(m)));
    return shipped;
  }

  /** User entries override shipped ones with the same id. */
  async catalog(): Promise<Model[]> {
    const own = await super.list();
    const ids = new Set(own.map((m) => m.id));
    return [...own, ...this.shipped().filter((m) => !ids.has(m.id))];
  }

  /**
   * The catalog's read, started now so that it goes with the other reads of this turn (one
   * round trip on a database); a failure is heard where it is awaited.
   */
  catalogAhead(): Promise<Model[]> {
    const read = this.catalog();
    read.catch(() => undefined);
    return read;
  }

  /** Finds a model by id, provider model id or alias, optionally within one provider. */
  async find(name: string, provider?: string): Promise<Model | undefined> {
    return (await this.catalog()).find((m) => modelMatches(m, name, provider));
  }

  /**
   * Like find, but unknown is NOT_FOUND with "did you mean" among that provider's models; in
   * `catalog` (a read already under way, see catalogAhead) if given.
   */
  async resolve(name: string, provider?: string, catalog?: Promise<Model[]>): Promise<Model> {
    const all = await (catalog ?? this.catalog());
    const found = all.find((m) => modelMatches(m, name, provider));
    if (found) return found;
    const pool = all.filter((m) => !provider || m.provider === provider);
    const names = pool.flatMap((m) => [m.id, m.modelId, ...m.aliases]);
    const elsewhere = provider
      ? all.find((m) => m.id === name || m.modelId === name || m.aliases.includes(name))
      : undefined;
    const err = notFound(provider ? `${provider} model` : 'model', name, suggest(name, names));
    if (elsewhere) err.message += ` (it is ${article(elsewhere.provider)} model)`;
    return Promise.reject(err);
  }

  /** Problems with running a role on a model: missing capabilities, too small a context. */
  compatibility(
    settings: Partial<ModelSettings> & Pick<ModelSettings, 'provider'>,
    model: Model,
    role: Role,
  ): Issue[] {
    const issues: Issue[] = [];
    // A sampling parameter the model rejects would fail every call the application makes.
    if (model.parameters !== undefined) {
      for (const p of SAMPLING_PARAMETERS) {
        if (settings[p] === undefined || model.parameters.includes(p)) continue;
        const takes = model.parameters.length
          ? `it takes only ${model.parameters.join(', ')}`
          : 'it takes none of the sampling parameters';
        issues.push({
          path: `model.${p}`,
          message: `${model.id} does not accept ${p} (${takes}): remove it (\`--from\` a patch with "${p}": null)`,
        });
      }
    }
    if (model.provider !== settings.provider) {
      issues.push({
        path: 'model.provider',
        message: `model "${model.id}" is served by ${model.provider}, not ${settings.provider}`,
      });
    }
    for (const cap of role.constraints.requiredModelCapabilities ?? []) {
      if (!model.capabilities.includes(cap)) {
        issues.push({
          path: 'model.modelId',
          message: `role "${role.id}" needs a model with "${cap}"; ${model.id} has ${model.capabilities.join(', ') || 'none'}`,
        });
      }
    }
    if (role.constraints.minContextWindow && model.contextWindow < role.constraints.minContextWindow) {
      issues.push({
        path: 'model.modelId',
        message: `role "${role.id}" needs a context window of ${role.constraints.minContextWindow}; ${model.id} has ${model.contextWindow}`,
      });
    }
    if (settings.maxTokens && model.maxOutputTokens && settings.maxTokens > model.maxOutputTokens) {
      issues.push({
        path: 'model.maxTokens',
        message: `${model.id} allows at most ${model.maxOutputTokens} output tokens, got ${settings.maxTokens}`,
      });
    }
    return issues;
  }
}
