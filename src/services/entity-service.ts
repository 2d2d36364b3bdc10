import type { z } from 'zod';
import { hashOf } from '../domain/canonical.js';
import { formatIssues, META_KEYS, parseOrThrow, slugify, toIssues } from '../domain/common.js';
import {
  concurrentModification,
  type Issue,
  notFound,
  TroupeError,
  validationError,
} from '../domain/errors.js';
import { SECRET_IN_TEXT, storedSecretPaths } from '../domain/secrets.js';
import { suggest } from '../domain/suggest.js';
import { valueProblems } from '../domain/text.js';
import type { BatchOp, Kind, Store, StoredDoc } from '../storage/store.js';
import { mergePatch } from './merge-patch.js';

export interface Where {
  /** The file the input came from, named in every error. */
  file?: string | undefined;
}

export interface EntitySpec {
  kind: Kind;
  /** Singular noun used in messages: "personality". */
  label: string;
  input: z.ZodType;
  stored: z.ZodType;
}

export type Normalized = { id: string; name?: string; [k: string]: unknown };

const stripMeta = (doc: Record<string, unknown>) => {
  const out = { ...doc };
  for (const k of META_KEYS) delete out[k];
  return out;
};

const PARSE_CACHE_SIZE = 2000;

/** An input object without the fields the store keeps (a copy; anything else as it is). */
const withoutKept = (input: unknown, kept: ReadonlySet<string>): unknown => {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).filter(([k]) => !kept.has(k)));
};

/** Freezes a parsed entity so a shared cached value cannot be changed by a caller. */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Where a person finds an entity, for a message: its file (`personalities/calm.json`), or, in a
 * store that says otherwise (a database, see Store.placeOf), its row (`personalities/calm`).
 */
export const entityFile = (kind: Kind, id: string, store?: Pick<Store, 'placeOf'>) =>
  store?.placeOf?.(kind, id) ?? `${kind}/${id}.json`;

/** Parse / validate / get / list / require for one entity kind over a Store. */
export class EntityReader<E extends { id: string; revision: number; name?: string }> {
  readonly #parsed = new Map<string, { source: string; entity: E }>();

  constructor(
    protected readonly store: Store,
    protected readonly spec: EntitySpec,
  ) {}

  get label(): string {
    return this.spec.label;
  }

  /** The slug of a name, for an entity given without an id; a name no slug can spell asks for one. */
  #idFromName(input: Normalized, where: Where): string | undefined {
    const name = input.name;
    if (typeof name !== 'string' || name.trim() === '') return undefined; // "name: is required" says it
    const id = slugify(name);
    if (id) return id;
    const message = `no id can be made from the name ${JSON.stringify(name)} (an id is lowercase a–z, 0–9 and dashes): give one, e.g. --id my-${this.spec.label.replace(/ .*/, '')} (or "id" in the file)`;
    throw validationError(
      `${where.file ? `${where.file}: ` : ''}${this.spec.label} ${JSON.stringify(name)}: id: ${message}`,
      [{ path: 'id', message, ...(where.file ? { file: where.file } : {}) }],
    );
  }

  /**
   * The fields the store keeps (revision, timestamps, commit, an agent's composition): in what
   * `show -o json` printed, so that output is accepted back; never taken from input.
   */
  get keptFields(): ReadonlySet<string> {
    // Derived from the two schemas once: parse runs per entity of a bundle.
    if (!this.#kept) {
      const keys = (schema: z.ZodType) => Object.keys((schema as unknown as { shape?: object }).shape ?? {});
      const input = new Set(keys(this.spec.input));
      this.#kept = new Set(keys(this.spec.stored).filter((k) => !input.has(k)));
    }
    return this.#kept;
  }

  #kept: ReadonlySet<string> | undefined;

  /** Validates user input; the id defaults to the slug of the name; store-kept fields are dropped. */
  parse(raw: unknown, where: Where = {}): Normalized {
    this.assertClean(raw, where);
    const input = withoutKept(raw, this.keptFields);
    const withId =
      input && typeof input === 'object' && !Array.isArray(input) && (input as Normalized).id === undefined
        ? { ...(input as object), id: this.#idFromName(input as Normalized, where) }
        : input;
    const data = parseOrThrow(this.spec.input, withId, {
      kind: this.spec.label,
      file: where.file,
      entity: (input as Normalized | undefined)?.id ?? (input as Normalized | undefined)?.name,
    }) as Normalized;
    delete data.$schema;
    // A key pasted anywhere (a name, a tone, a URL, a stop sequence) is refused, never stored.
    const leaked = storedSecretPaths(data);
    if (leaked.length) {
      const at = where.file ? `${where.file}: ` : '';
      const issues = leaked.map((path) => ({
        path,
        message: SECRET_IN_TEXT,
        ...(where.file ? { file: where.file } : {}),
      }));
      throw validationError(
        `${at}${this.spec.label}: ${leaked.map((p) => `${p}: ${SECRET_IN_TEXT}`).join('\n')}`,
        issues,
      );
    }
    return data;
  }

  /** Refuses, before any schema or merge, prototype keys, unrepresentable numbers, control characters, depth. */
  assertClean(input: unknown, where: Where = {}): void {
    const problems = valueProblems(input);
    if (problems.length === 0) return;
    const at = where.file ? `${where.file}: ` : '';
    throw validationError(
      `${at}${this.spec.label}: ${formatIssues(problems, { where: false })}`,
      problems.map((p) => ({ ...p, ...(where.file ? { file: where.file } : {}) })),
    );
  }

  /** Every problem with an input, without throwing. */
  validate(input: unknown, where: Where = {}): Issue[] {
    try {
      this.parse(input, where);
      return [];
    } catch (e) {
      if (e instanceof TroupeError && e.code === 'VALIDATION_FAILED') return e.issues;
      throw e;
    }
  }

  /**
   * Refuses a document about to be written that would not read back as a valid entity (its
   * schema, a key pasted into it): a batch handed to a commit from outside, not planned by a
   * service (a workflow's own `file.persist` step), is checked as any read of it would be.
   */
  checkWritable(doc: unknown): void {
    const at = '1970-01-01T00:00:00.000Z';
    const stamped = { ...(doc as object), revision: 1, createdAt: at, updatedAt: at } as StoredDoc;
    // Parsed uncached: a document not yet stored has no revision of its own to key a cache.
    const r = this.spec.stored.safeParse(stamped);
    const id = String((doc as { id?: unknown } | null)?.id ?? '');
    const file = entityFile(this.spec.kind, id, this.store);
    const issues = r.success
      ? storedSecretPaths(r.data).map((path) => ({ path, message: SECRET_IN_TEXT, file, entity: id }))
      : toIssues(r.error, { file, entity: id }, stamped);
    if (issues.length)
      throw new TroupeError(
        'VALIDATION_FAILED',
        `${file}: ${this.spec.label} "${id}" would be written invalid, so nothing was written:\n${formatIssues(issues, { indent: '  ', where: false })}`,
        { issues, context: { kind: this.spec.kind, id, file } },
      );
  }

  /** A stored document as a typed entity; a hand-broken file is VALIDATION_FAILED naming it. */
  fromDoc(doc: StoredDoc): E {
    // A stored revision never changes, so its parse is cached; entities come back frozen.
    const key = `${doc.id}\u0000${doc.revision}\u0000${doc.updatedAt}`;
    const hit = this.#parsed.get(key);
    const source = JSON.stringify(doc);
    if (hit && hit.source === source) return hit.entity;
    const file = entityFile(this.spec.kind, doc.id, this.store);
    const r = this.spec.stored.safeParse(doc);
    // A key pasted into a stored document by hand (with an editor, with SQL) is refused as at
    // input, so no read, listing or composition ever hands it on.
    const leaked = r.success ? storedSecretPaths(r.data) : [];
    if (leaked.length)
      throw new TroupeError(
        'VALIDATION_FAILED',
        `${file}: stored ${this.spec.label} "${doc.id}" is invalid:\n${leaked.map((p) => `  ${p}: ${SECRET_IN_TEXT}`).join('\n')}`,
        {
          issues: leaked.map((path) => ({ path, message: SECRET_IN_TEXT, file, entity: doc.id })),
          context: { kind: this.spec.kind, id: doc.id, file, stored: true },
        },
      );
    if (r.success) {
      if (this.#parsed.size >= PARSE_CACHE_SIZE) this.#parsed.clear();
      const entity = deepFreeze(r.data as E);
      this.#parsed.set(key, { source, entity });
      return entity;
    }
    const issues = toIssues(r.error, { file, entity: doc.id }, doc);
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${file}: stored ${this.spec.label} "${doc.id}" is invalid:\n${formatIssues(issues, { indent: '  ', where: false })}`,
      { issues, context: { kind: this.spec.kind, id: doc.id, file, stored: true } },
    );
  }

  /** The entity with this id; undefined if there is none. */
  async get(id: string): Promise<E | undefined> {
    const doc = await this.store.get(this.spec.kind, id);
    return doc && this.fromDoc(doc);
  }

  /**
   * What a write that replaces the entity whole is made over: the entity; or, when its stored
   * document fails this kind's schema (edited by hand), that document as stored, to be
   * replaced (its revision held). A file the store cannot read at all is still refused.
   */
  async replaceable(id: string): Promise<{ current: E | StoredDoc; refusal?: TroupeError } | undefined> {
    const doc = await this.store.get(this.spec.kind, id);
    if (!doc) return undefined;
    try {
      return { current: this.fromDoc(doc) };
    } catch (e) {
      if (e instanceof TroupeError && e.code === 'VALIDATION_FAILED' && Number.isSafeInteger(doc.revision))
        return { current: doc, refusal: e };
      throw e;
    }
  }

  /** Every stored entity of this kind; a file edited by hand past its schema refuses the list. */
  async list(): Promise<E[]> {
    const { entities, refused } = await this.readable();
    if (refused[0]) throw refused[0];
    return entities;
  }

  /**
   * Every stored entity of this kind that its schema takes, and the refusal of each that it
   * does not (edited by hand): what a listing shows, warning of the rest.
   */
  async readable(): Promise<{ entities: E[]; refused: TroupeError[] }> {
    const refused: TroupeError[] = [];
    const entities = (await this.#readableDocs(refused)).flatMap((d) => {
      try {
        return [this.fromDoc(d)];
      } catch (e) {
        if (!(e instanceof TroupeError) || e.code !== 'VALIDATION_FAILED') throw e;
        refused.push(e);
        return [];
      }
    });
    return { entities, refused };
  }

  /**
   * The stored documents of this kind. When the store refuses the whole kind for one of them
   * (a file that is no JSON, a row holding a control character), each is read on its own
   * instead: the rest are kept, the refusal of each bad one added to `refused`.
   */
  async #readableDocs(refused: TroupeError[]): Promise<StoredDoc[]> {
    try {
      return await this.store.list(this.spec.kind);
    } catch (e) {
      if (!(e instanceof TroupeError) || e.code !== 'VALIDATION_FAILED' || !this.store.scan) throw e;
      const docs: StoredDoc[] = [];
      for (const entry of await this.store.scan(this.spec.kind)) {
        if (entry.doc) docs.push(entry.doc);
        else if (entry.error)
          refused.push(
            new TroupeError(
              'VALIDATION_FAILED',
              `${entry.file}: ${entry.error.path}: ${entry.error.message}`,
              {
                issues: [entry.error],
                context: { kind: this.spec.kind, id: entry.id, file: entry.file },
              },
            ),
          );
      }
      return docs;
    }
  }

  /** Like get, but a missing id is NOT_FOUND with "did you mean" suggestions. */
  async require(id: string): Promise<E> {
    const found = await this.get(id);
    if (found) return found;
    const all = await this.list();
    throw notFound(
      this.spec.label,
      id,
      suggest(
        id,
        all.flatMap((e) => [e.id]),
      ),
    );
  }

  /** The fields a person edits: everything but the store's metadata and derived fields. */
  editable(e: E): Record<string, unknown> {
    return stripMeta(e as unknown as Record<string, unknown>);
  }

  /** The content hash of an entity's editable fields: equal content, equal hash. */
  entityHashOf(e: E | Normalized): string {
    return hashOf(this.editable(e as E));
  }

  /** Applies a JSON merge patch to the editable fields and validates; the id cannot change. */
  patched(
    current: E,
    patch: unknown,
    opts: { expectedRevision?: number | undefined; file?: string | undefined } = {},
  ): Normalized {
    if ((patch as Normalized | null)?.id !== undefined && (patch as Normalized).id !== current.id) {
      throw new TroupeError(
        'VALIDATION_FAILED',
        `${opts.file ? `${opts.file}: ` : ''}id cannot be changed (${current.id} → ${(patch as Normalized).id})`,
        {
          issues: [{ path: 'id', message: 'cannot be changed', ...(opts.file ? { file: opts.file } : {}) }],
        },
      );
    }
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== current.revision) {
      throw concurrentModification(this.spec.label, current.id, opts.expectedRevision, current.revision, {
        retryable: false,
      });
    }
    this.assertClean(patch, { file: opts.file });
    const merged = mergePatch(this.editable(current), patch);
    return this.parse({ ...(merged as object), id: current.id }, { file: opts.file });
  }
}

/**
 * Create / update / delete on top of the reader. `prepare*` methods return the batch ops
 * without writing, so a coordinator can commit several services' changes at once.
 */
export class EntityService<
  E extends { id: string; revision: number; name?: string },
> extends EntityReader<E> {
  /** Validates the input and returns the op that creates it (ALREADY_EXISTS at commit if taken). */
  prepareCreate(input: unknown, where: Where = {}): { entity: Normalized; op: BatchOp } {
    const entity = this.parse(input, where);
    return { entity, op: { op: 'put', kind: this.spec.kind, doc: entity, create: true } };
  }

  /** Validates and stores a new entity; the id defaults to the slug of the name. */
  async create(input: unknown, where: Where = {}): Promise<E> {
    const { op } = this.prepareCreate(input, where);
    const { results } = await this.store.commit([op]);
    return this.fromDoc(results[0]!.doc);
  }

  /** The op that applies a JSON merge patch to `current`, guarded by its revision. */
  prepareUpdate(
    current: E,
    patch: unknown,
    opts: { expectedRevision?: number | undefined; file?: string } = {},
  ) {
    const entity = this.patched(current, patch, opts);
    const op: BatchOp = { op: 'put', kind: this.spec.kind, doc: entity, expectedRevision: current.revision };
    return { entity, op };
  }

  /** Applies a JSON merge patch; `expectedRevision` fails it if the entity moved on meanwhile. */
  async update(
    id: string,
    patch: unknown,
    opts: { expectedRevision?: number | undefined; file?: string } = {},
  ): Promise<E> {
    const current = await this.require(id);
    const { op } = this.prepareUpdate(current, patch, opts);
    const { results } = await this.store.commit([op]);
    return this.fromDoc(results[0]!.doc);
  }

  /** The op that deletes `current`, guarded by its revision (or the one given). */
  prepareDelete(current: E, expectedRevision?: number): BatchOp {
    return {
      op: 'delete',
      kind: this.spec.kind,
      id: current.id,
      expectedRevision: expectedRevision ?? current.revision,
    };
  }

  /** Deletes the entity and returns it as it was; references to it are not checked here. */
  async delete(id: string, opts: { expectedRevision?: number | undefined } = {}): Promise<E> {
    const current = await this.require(id);
    await this.store.commit([this.prepareDelete(current, opts.expectedRevision)]);
    return current;
  }
}
