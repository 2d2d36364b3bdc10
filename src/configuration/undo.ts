import { canonicalJson } from '../domain/canonical.js';
import { TroupeError } from '../domain/errors.js';
import { keyOf } from '../storage/batch.js';
import type { BatchOp, Store, StoredDoc } from '../storage/store.js';

/** An inverse op, plus the revision that shows the original commit never happened. */
export type UndoOp = Exclude<BatchOp, { op: 'check' }> & { beforeRevision: number };

/** A commit together with the ops that undo it (used as a workflow step's compensation). */
export interface UndoableCommit {
  undo: UndoOp[];
  touched: string[];
}

/** Durably records the undo before the commit, so a crash mid-step can still be undone. */
export type RecordIntent = ((data: { undo: UndoOp[]; touched: string[] }) => Promise<void>) | undefined;

const body = (d: StoredDoc) => {
  const { revision: _r, createdAt: _c, updatedAt: _u, ...rest } = d;
  return rest as StoredDoc;
};
const idOf = (op: BatchOp) => (op.op === 'put' ? op.doc.id : op.id);

/**
 * Commits a batch and returns its inverse, computed before the commit (revisions are pinned,
 * so the revision each write produces is known) and handed to `intent` first. Ops without an
 * expected revision are pinned to the revision read just before: the inverse is exact, or
 * the commit fails with CONCURRENT_MODIFICATION.
 */
export async function commitWithUndo(
  store: Store,
  ops: BatchOp[],
  intent?: RecordIntent,
): Promise<UndoableCommit> {
  if (ops.length === 0) return { undo: [], touched: [] };
  const prev = new Map<string, StoredDoc | undefined>();
  const finalRev = new Map<string, number>();
  const finalExists = new Map<string, boolean>();
  const pinned: BatchOp[] = [];
  for (const op of ops) {
    if (op.op === 'check') {
      pinned.push(op); // a guard: nothing to undo
      continue;
    }
    const key = keyOf(op.kind, idOf(op));
    if (!prev.has(key)) {
      const before = await store.get(op.kind, idOf(op));
      prev.set(key, before);
      finalRev.set(key, before?.revision ?? 0);
      pinned.push(
        op.expectedRevision === undefined ? { ...op, expectedRevision: before?.revision ?? 0 } : op,
      );
    } else pinned.push(op);
    if (op.op === 'put') finalRev.set(key, finalRev.get(key)! + 1);
    finalExists.set(key, op.op === 'put');
  }
  const undo: UndoOp[] = [];
  for (const op of pinned) {
    if (op.op === 'check') continue;
    const key = keyOf(op.kind, idOf(op));
    if (undo.some((u) => keyOf(u.kind, idOf(u)) === key)) continue;
    const before = prev.get(key);
    const beforeRevision = before?.revision ?? 0;
    const after = finalExists.get(key) ? finalRev.get(key)! : 0;
    if (after && before)
      undo.push({ op: 'put', kind: op.kind, doc: body(before), expectedRevision: after, beforeRevision });
    else if (after)
      undo.push({ op: 'delete', kind: op.kind, id: idOf(op), expectedRevision: after, beforeRevision });
    else if (before) {
      // Brought back exactly as it was, revision included, so agents composed against it stay valid.
      const restore = { revision: before.revision, createdAt: before.createdAt, updatedAt: before.updatedAt };
      undo.push({
        op: 'put',
        kind: op.kind,
        doc: body(before),
        expectedRevision: 0,
        restore,
        beforeRevision,
      });
    }
  }
  const touched = [...prev.keys()];
  await intent?.({ undo, touched });
  await store.commit(pinned);
  return { undo, touched };
}

/**
 * Applies an undo idempotently: ops whose commit never happened, or that were already
 * undone, are skipped; an entity changed by someone else since is CONCURRENT_MODIFICATION.
 */
export async function applyUndo(
  store: Store,
  undo: UndoOp[],
  intent?: RecordIntent,
): Promise<UndoableCommit> {
  const ops: BatchOp[] = [];
  for (const u of undo) {
    const id = idOf(u);
    const current = await store.get(u.kind, id);
    const rev = current?.revision ?? 0;
    if (rev === u.expectedRevision) {
      const { beforeRevision: _b, ...op } = u;
      ops.push(op as BatchOp);
      continue;
    }
    const neverApplied = rev === u.beforeRevision && (u.op === 'delete' ? !current : Boolean(current));
    const alreadyUndone =
      u.op === 'delete'
        ? !current
        : current !== undefined && canonicalJson(body(current)) === canonicalJson(u.doc);
    if (neverApplied || alreadyUndone) continue;
    throw new TroupeError(
      'CONCURRENT_MODIFICATION',
      `cannot undo ${u.kind}/${id}: it changed since (expected revision ${u.expectedRevision}, found ${rev})`,
      {
        retryable: false,
        context: { kind: u.kind, id, expectedRevision: u.expectedRevision, actualRevision: rev },
      },
    );
  }
  return commitWithUndo(store, ops, intent);
}
