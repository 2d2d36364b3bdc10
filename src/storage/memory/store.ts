import { throwIfCancelled } from '../../domain/errors.js';
import { planBatch } from '../batch.js';
import { BatchStore } from '../batch-store.js';
import { cloneJson } from '../clone.js';
import {
  type BatchOp,
  byId,
  type CommitOptions,
  type CommitResult,
  type Kind,
  type StoredDoc,
  type StoreOptions,
} from '../store.js';

/**
 * An in-process store: the reference adapter, and the one the testing kit's fakes use.
 * @example
 * ```ts
 * const config = new ConfigurationService(new MemoryStore()); // for tests and throwaway casts
 * ```
 */
export class MemoryStore extends BatchStore {
  /** Documents by kind, then id: listing one kind never walks the others. */
  readonly #docs = new Map<Kind, Map<string, StoredDoc>>();
  /** Previous versions by `kind\0id`, newest first: as many as `backups` (the file store's 5). */
  readonly #history = new Map<string, StoredDoc[]>();
  readonly #backups: number;
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();

  /** `newCommitId`: where commit ids come from (a test's own, so they are the same every run). */
  constructor(opts: StoreOptions & { newCommitId?: () => string; backups?: number } = {}) {
    super();
    this.#now = opts.now ?? Date.now;
    this.#backups = opts.backups ?? 5;
    if (opts.newCommitId) this.newCommitId = opts.newCommitId;
  }

  /** Set when the store was given its own source of commit ids (see CommitIds). */
  newCommitId?: () => string;

  #of(kind: Kind): Map<string, StoredDoc> {
    let m = this.#docs.get(kind);
    if (!m) {
      m = new Map();
      this.#docs.set(kind, m);
    }
    return m;
  }

  async get(kind: Kind, id: string): Promise<StoredDoc | undefined> {
    const d = this.#of(kind).get(id);
    return d && cloneJson(d);
  }

  async list(kind: Kind): Promise<StoredDoc[]> {
    return [...this.#of(kind).values()].map((d) => cloneJson(d)).sort(byId);
  }

  /** Serialized so a plan is never computed against state another commit is changing. */
  commit(ops: BatchOp[], opts: CommitOptions = {}): Promise<CommitResult> {
    const run = this.#tail.then(async () => {
      throwIfCancelled(opts.signal);
      const { changes, result } = await planBatch(
        ops,
        (k, id) => this.get(k, id),
        this.#now,
        (k) => this.list(k),
        this.newCommitId,
      );
      for (const c of changes.values()) {
        const before = this.#of(c.kind).get(c.id);
        if (before && before.revision !== c.doc?.revision) this.#keep(c.kind, c.id, before);
        if (c.doc) this.#of(c.kind).set(c.id, cloneJson(c.doc));
        else this.#of(c.kind).delete(c.id);
      }
      return cloneJson(result);
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** One kept previous version, or undefined if that revision is not (or no longer) kept. */
  async readBackup(kind: Kind, id: string, revision: number): Promise<StoredDoc | undefined> {
    const d = this.#history.get(`${kind}\u0000${id}`)?.find((h) => h.revision === revision);
    return d && cloneJson(d);
  }

  #keep(kind: Kind, id: string, doc: StoredDoc): void {
    if (this.#backups <= 0) return;
    const key = `${kind}\u0000${id}`;
    const kept = [doc, ...(this.#history.get(key) ?? [])].slice(0, this.#backups);
    this.#history.set(key, kept);
  }

  async close(): Promise<void> {}
}
