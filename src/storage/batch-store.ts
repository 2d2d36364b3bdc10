import type {
  BatchOp,
  CommitOptions,
  CommitResult,
  DocInput,
  Kind,
  Store,
  StoredDoc,
  WriteOptions,
} from './store.js';

/** What every adapter shares: single writes are one-op batches, so they follow the same rules. */
export abstract class BatchStore implements Store {
  abstract get(kind: Kind, id: string): Promise<StoredDoc | undefined>;
  abstract list(kind: Kind): Promise<StoredDoc[]>;
  abstract commit(ops: BatchOp[], opts?: CommitOptions): Promise<CommitResult>;
  abstract close(): Promise<void>;

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
}
