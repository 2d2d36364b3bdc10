import type { ModelSettings } from '../domain/agent.js';
import { type Issue, isTroupeError, notFound, type TroupeError } from '../domain/errors.js';
import { type Model, ModelInput, Model as ModelSchema, SAMPLING_PARAMETERS } from '../domain/model.js';
import type { Role } from '../domain/role.js';
import { suggest } from '../domain/suggest.js';
import { article } from '../domain/text.js';
import { invalidFiles } from '../storage/file/codec.js';
import { byId, type Store, type StoredDoc } from '../storage/store.js';
import { loadShipped } from './data.js';
import { deepFreeze, EntityService } from './entity-service.js';

let shipped: Model[] | undefined;

/** The model files a catalog left out because the store refused them, by catalog. */
const refusals = new WeakMap<Model[], Map<string, TroupeError>>();

/** Whether a catalog entry is the one a name (id, provider model id or alias) names, within a provider if given. */
export const modelMatches = (m: Model, name: string, provider?: string): boolean =>
  (m.id === name || m.modelId === name || m.aliases.includes(name)) && (!provider || m.provider === provider);

/**
 * The entry of `all` a name means: the one of that id first, then of that provider model id,
 * then by alias — so an alias of a model of your own never takes over another model's id.
 */
export function matchIn<M extends Model>(all: readonly M[], name: string, provider?: string): M | undefined {
  const within = (m: M) => !provider || m.provider === provider;
  return (
    all.find((m) => m.id === name && within(m)) ??
    all.find((m) => m.modelId === name && within(m)) ??
    all.find((m) => m.aliases.includes(name) && within(m))
  );
}

/**
 * The models of other providers that a name given without a provider means as much as `found`
 * (matchIn's pick) does: the same provider model id, or, where no model has it as that, the same
 * alias. An id names one model; a name several providers serve is a guess unless told which.
 */
export function otherProvidersNaming<M extends Model>(all: readonly M[], name: string, found: M): M[] {
  if (found.id === name) return [];
  const same = found.modelId === name ? (m: M) => m.modelId === name : (m: M) => m.aliases.includes(name);
  return all.filter((m) => m.provider !== found.provider && same(m));
}

/**
 * The aliases of `m` that are the id of another model of its provider in `all`: dead names, as
 * an id is matched first (see matchIn), so they could never name `m`. With their index.
 */
export function deadAliases(
  m: { id: string; provider?: unknown; aliases?: unknown },
  all: readonly Model[],
): Array<{ index: number; issue: string }> {
  const aliases = Array.isArray(m.aliases) ? (m.aliases as string[]) : [];
  return aliases.flatMap((alias, index) => {
    const other = all.find((o) => o.id === alias && o.id !== m.id && o.provider === m.provider);
    return other
      ? [
          {
            index,
            issue: `"${alias}" is the id of another ${other.provider} model: a name is matched to a model's id before any alias, so it would never name model "${m.id}"; remove it from aliases`,
          },
        ]
      : [];
  });
}

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

  /**
   * User entries override shipped ones with the same id. A model file the store refuses to
   * read (a key given twice, a field out of range: written by hand) is left out, and so is the
   * shipped model of its id: one bad file does not make every other model unreadable, and a
   * name only it could answer is refused with its problem (see resolve).
   */
  async catalog(): Promise<Model[]> {
    const { own, refused } = await this.#own();
    const ids = new Set([...own.map((m) => m.id), ...refused.keys()]);
    const all = [...own, ...this.shipped().filter((m) => !ids.has(m.id))];
    if (refused.size) {
      // The shipped model a refused file stands in for is asked for by its other names too.
      for (const m of this.shipped()) {
        const refusal = refused.get(m.id);
        if (refusal)
          for (const name of [m.modelId, ...m.aliases]) if (!refused.has(name)) refused.set(name, refusal);
      }
      refusals.set(all, refused);
    }
    return all;
  }

  /** The user's own entries, and the refusal of each file the store cannot read, by id. */
  async #own(): Promise<{ own: Model[]; refused: Map<string, TroupeError> }> {
    const refused = new Map<string, TroupeError>();
    // A store that keeps no files (memory, a database) refuses nothing on read.
    if (!this.store.scan) return { own: await super.list(), refused };
    const own: Model[] = [];
    for (const e of await this.store.scan('models')) {
      try {
        if (e.error) throw invalidFiles([e.error], { kind: 'models', id: e.id, file: e.file });
        own.push(this.fromDoc(e.doc as StoredDoc));
      } catch (err) {
        if (!isTroupeError(err)) throw err;
        refused.set(e.id, err);
      }
    }
    return { own: own.sort(byId), refused };
  }

  /**
   * The refusal of the model file that alone could answer `name` (its id, or a name of the
   * shipped model it stands in for) in `catalog` (one this service read), if one was refused.
   */
  refusalFor(catalog: Model[], name: string): TroupeError | undefined {
    return refusals.get(catalog)?.get(name);
  }

  /** Why each model file that `catalog` (one this service read) left out was refused. */
  refusedIn(catalog: Model[]): TroupeError[] {
    return [...new Set(refusals.get(catalog)?.values() ?? [])];
  }

  /**
   * `found` (what `catalog` answered `name` with), or, where it answered nothing, the refusal
   * of the model file that would have (thrown): its problem is the one to fix.
   */
  foundOrRefused(catalog: Model[], found: Model | undefined, name: string): Model | undefined {
    const refusal = found ? undefined : this.refusalFor(catalog, name);
    if (refusal) throw refusal;
    return found;
  }

  /** The catalog entry of this very id, if any; its file's refusal if that is refused. */
  async byId(id: string): Promise<Model | undefined> {
    const all = await this.catalog();
    return this.foundOrRefused(
      all,
      all.find((m) => m.id === id),
      id,
    );
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
    const all = await this.catalog();
    return this.foundOrRefused(all, matchIn(all, name, provider), name);
  }

  /**
   * Like find, but unknown is NOT_FOUND with "did you mean" among that provider's models; in
   * `catalog` (a read already under way, see catalogAhead) if given.
   */
  async resolve(name: string, provider?: string, catalog?: Promise<Model[]>): Promise<Model> {
    const all = await (catalog ?? this.catalog());
    const found = this.foundOrRefused(all, matchIn(all, name, provider), name);
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
