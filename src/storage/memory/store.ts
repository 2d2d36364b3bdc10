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
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();

  /** `newCommitId`: where commit ids come from (a test's own, so they are the same every run). */
  constructor(opts: StoreOptions & { newCommitId?: () => string } = {}) {
    super();
    this.#now = opts.now ?? Date.now;
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
        if (c.doc) this.#of(c.kind).set(c.id, cloneJson(c.doc));
        else this.#of(c.kind).delete(c.id);
      }
      return cloneJson(result);
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {}
}
