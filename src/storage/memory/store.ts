import { planBatch } from '../batch.js';
import { cloneJson } from '../clone.js';
import type {
  BatchOp,
  CommitResult,
  DocInput,
  Kind,
  Store,
  StoredDoc,
  StoreOptions,
  WriteOptions,
} from '../store.js';

/** An in-process store: the reference adapter, and the one the testing kit's fakes use. */
export class MemoryStore implements Store {
  /** Documents by kind, then id: listing one kind never walks the others. */
  readonly #docs = new Map<Kind, Map<string, StoredDoc>>();
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(opts: StoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
  }

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
    return [...this.#of(kind).values()]
      .map((d) => cloneJson(d))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async put(kind: Kind, doc: DocInput, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.commit([
      { op: 'put', kind, doc, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  async delete(kind: Kind, id: string, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.commit([
      { op: 'delete', kind, id, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  /** Serialized so a plan is never computed against state another commit is changing. */
  commit(ops: BatchOp[]): Promise<CommitResult> {
    const run = this.#tail.then(async () => {
      const { changes, result } = await planBatch(ops, (k, id) => this.get(k, id), this.#now);
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
