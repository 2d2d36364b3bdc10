import { keyOf } from '../storage/batch.js';
import type { BatchOp, CommitResult, Store, StoredDoc } from '../storage/store.js';

/** A commit together with the ops that undo it (used as a workflow step's compensation). */
export interface UndoableCommit {
  results: CommitResult['results'];
  undo: BatchOp[];
  touched: string[];
}

const body = (d: StoredDoc) => {
  const { revision: _r, createdAt: _c, updatedAt: _u, ...rest } = d;
  return rest as StoredDoc;
};

/**
 * Commits a batch and returns its inverse. Ops without an expected revision are pinned to
 * the revision read just before, so the inverse is exact or fails loudly with CAS.
 */
export async function commitWithUndo(store: Store, ops: BatchOp[]): Promise<UndoableCommit> {
  if (ops.length === 0) return { results: [], undo: [], touched: [] };
  const prev = new Map<string, StoredDoc | undefined>();
  const pinned: BatchOp[] = [];
  for (const op of ops) {
    const id = op.op === 'put' ? op.doc.id : op.id;
    const key = keyOf(op.kind, id);
    if (!prev.has(key)) prev.set(key, await store.get(op.kind, id));
    const seenInBatch = pinned.some((p) => p.kind === op.kind && (p.op === 'put' ? p.doc.id : p.id) === id);
    pinned.push(
      op.expectedRevision === undefined && !seenInBatch
        ? { ...op, expectedRevision: prev.get(key)?.revision ?? 0 }
        : op,
    );
  }
  const { results } = await store.commit(pinned);
  const final = new Map<string, { kind: BatchOp['kind']; id: string; doc: StoredDoc | null }>();
  for (const r of results)
    final.set(keyOf(r.kind, r.id), { kind: r.kind, id: r.id, doc: r.op === 'put' ? r.doc : null });
  const undo: BatchOp[] = [];
  for (const [key, f] of final) {
    const before = prev.get(key);
    const after = f.doc;
    if (after && before)
      undo.push({ op: 'put', kind: f.kind, doc: body(before), expectedRevision: after.revision });
    else if (after) undo.push({ op: 'delete', kind: f.kind, id: f.id, expectedRevision: after.revision });
    else if (before) undo.push({ op: 'put', kind: f.kind, doc: body(before), expectedRevision: 0 });
  }
  return { results, undo, touched: [...final.keys()] };
}
