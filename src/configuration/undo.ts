import { canonicalJson, contentHash } from '../domain/canonical.js';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import { keyOf } from '../storage/batch.js';
import {
  type BatchOp,
  type CommitResult,
  type GuardOp,
  isGuard,
  type Store,
  type StoredDoc,
} from '../storage/store.js';

/**
 * An inverse op together with the identity of the write it undoes: the revision this run's
 * commit produced (`expectedRevision`, 0 when it deleted) and the content hash of what it
 * wrote (`wrote`, absent when it deleted), plus the state before (`beforeRevision`,
 * `beforeHash`, absent when the document did not exist). An undo applies only while the
 * stored document is still exactly what this run wrote.
 */
export type UndoOp = Exclude<BatchOp, GuardOp> & {
  beforeRevision: number;
  beforeHash?: string | undefined;
  wrote?: string | undefined;
};

/** A commit together with the ops that undo it (used as a workflow step's compensation). */
export interface UndoableCommit {
  undo: UndoOp[];
  touched: string[];
  /** What the store wrote, one entry per put or delete: what this commit did, not a later read. */
  results?: CommitResult['results'];
  /** True when every op would have written what is already stored: nothing was written. */
  unchanged?: boolean;
  /**
   * Set on the intent recorded before the commit (`intent`): whether the commit then happened
   * is not known. Its undo then proves from the store which it was (see applyUndo).
   */
  unconfirmed?: boolean;
}

/** An undo that did not apply because someone else wrote the document after this run did. */
export interface SkippedUndo {
  key: string;
  /** The revision this run's write produced (0: this run deleted it). */
  wroteRevision: number;
  /** The revision stored now (0: it does not exist). */
  foundRevision: number;
  /** A deletion this run may not have made (the undo of an unconfirmed intent): left as it is. */
  unknown?: boolean;
}

/** Durably records the undo before the commit, so a crash mid-step can still be undone. */
export type RecordIntent = ((data: { undo: UndoOp[]; touched: string[] }) => Promise<void>) | undefined;

const body = (d: StoredDoc | Record<string, unknown>) => {
  const { revision: _r, createdAt: _c, updatedAt: _u, $schema: _s, ...rest } = d as StoredDoc;
  return rest as StoredDoc;
};

export { contentHash };

const idOf = (op: Exclude<BatchOp, { op: 'absent' }>) => (op.op === 'put' ? op.doc.id : op.id);

/** Errors a store raises before it writes anything: the batch was refused as a whole. */
const REFUSED = new Set(['CONCURRENT_MODIFICATION', 'ALREADY_EXISTS', 'NOT_FOUND', 'VALIDATION_FAILED']);

/**
 * Commits a batch and returns its inverse, computed before the commit (revisions are pinned,
 * so the revision each write produces is known) and handed to `intent` first. Ops without an
 * expected revision are pinned to the revision read just before: the inverse is exact, or
 * the commit fails with CONCURRENT_MODIFICATION. A put of exactly what is stored becomes a
 * guard, so a change that changes nothing writes nothing (and bumps no revision).
 */
export async function commitWithUndo(
  store: Store,
  ops: BatchOp[],
  intent?: RecordIntent,
): Promise<UndoableCommit> {
  const prev = new Map<string, StoredDoc | undefined>();
  const finalRev = new Map<string, number>();
  const finalDoc = new Map<string, BatchOp | undefined>();
  const pinned: BatchOp[] = [];
  for (const op of ops) {
    if (isGuard(op)) {
      pinned.push(op); // a guard: nothing to undo
      continue;
    }
    const key = keyOf(op.kind, idOf(op));
    let before: StoredDoc | undefined;
    if (!prev.has(key)) {
      before = await store.get(op.kind, idOf(op));
      prev.set(key, before);
      finalRev.set(key, before?.revision ?? 0);
    } else before = prev.get(key);
    const first = !finalDoc.has(key);
    const pin = first && op.expectedRevision === undefined ? { expectedRevision: before?.revision ?? 0 } : {};
    const same =
      first &&
      op.op === 'put' &&
      !op.restore &&
      !op.touch &&
      before !== undefined &&
      before.revision > 0 && // adopting a hand-written file always writes its metadata
      (op.expectedRevision === undefined || op.expectedRevision === before.revision) &&
      canonicalJson(body(before)) === canonicalJson(body(op.doc));
    if (same) {
      pinned.push({ op: 'check', kind: op.kind, id: idOf(op), expectedRevision: before!.revision });
      continue;
    }
    pinned.push({ ...op, ...pin });
    if (op.op === 'put') finalRev.set(key, finalRev.get(key)! + 1);
    finalDoc.set(key, op.op === 'put' ? op : undefined);
  }
  if (finalDoc.size === 0) return { undo: [], touched: [], results: [], unchanged: true };
  const undo: UndoOp[] = [];
  for (const [key, last] of finalDoc) {
    const before = prev.get(key);
    const [kind, id] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)] as [
      UndoOp['kind'],
      string,
    ];
    const beforeRevision = before?.revision ?? 0;
    const identity = {
      beforeRevision,
      beforeHash: before ? contentHash(before) : undefined,
      wrote: last && last.op === 'put' ? contentHash(last.doc) : undefined,
    };
    const after = last ? finalRev.get(key)! : 0;
    if (after && before)
      undo.push({ op: 'put', kind, doc: body(before), expectedRevision: after, ...identity });
    else if (after) undo.push({ op: 'delete', kind, id, expectedRevision: after, ...identity });
    else if (before) {
      // Brought back exactly as it was, revision included, so agents composed against it stay valid.
      const restore = { revision: before.revision, createdAt: before.createdAt, updatedAt: before.updatedAt };
      undo.push({ op: 'put', kind, doc: body(before), expectedRevision: 0, restore, ...identity });
    }
  }
  const touched = [...finalDoc.keys()];
  const recorded = { undo: [...undo], touched, unconfirmed: true };
  await intent?.(recorded);
  try {
    const { results } = await store.commit(pinned);
    return { undo, touched, results };
  } catch (e) {
    // Refused as a whole (a lost race, say): it wrote nothing, so there is nothing to undo.
    if (isTroupeError(e) && REFUSED.has(e.code)) recorded.undo.length = 0;
    throw e;
  }
}

/** An undo recorded before writes carried an identity: judged by revision numbers alone. */
const isLegacy = (u: UndoOp) => u.wrote === undefined && u.beforeHash === undefined;

/** Whether the stored document is exactly what the undone write left there. */
function isOurs(u: UndoOp, current: StoredDoc | undefined): boolean {
  if (isLegacy(u)) return (current?.revision ?? 0) === u.expectedRevision;
  if (u.wrote === undefined) return current === undefined;
  return current !== undefined && current.revision === u.expectedRevision && contentHash(current) === u.wrote;
}

/**
 * Whether the stored document holds exactly what this run wrote, at a later revision. No-op
 * writes never move a revision, so only a change stacked on ours and then undone (restoring
 * our content) brings it back this way.
 */
function isOursAgain(u: UndoOp, current: StoredDoc | undefined): boolean {
  if (isLegacy(u) || u.wrote === undefined || current === undefined) return false;
  return current.revision > (u.expectedRevision ?? 0) && contentHash(current) === u.wrote;
}

/** Whether the stored document is as it was before the write (never applied, or already undone). */
function isBefore(u: UndoOp, current: StoredDoc | undefined): boolean {
  if (isLegacy(u)) {
    const neverApplied = (current?.revision ?? 0) === u.beforeRevision && (u.op === 'delete') === !current;
    const undone =
      u.op === 'delete'
        ? !current
        : current !== undefined && canonicalJson(body(current)) === canonicalJson(u.doc);
    return neverApplied || undone;
  }
  if (u.beforeHash === undefined) return current === undefined;
  if (current === undefined) return false;
  if (contentHash(current) === u.beforeHash) return true;
  // Undone, then re-composed against the restored personality or role (an undo that was cut off
  // after its re-sync and runs again): the same agent, pointing at the revisions now stored.
  if (u.op === 'put' && u.kind === 'agents')
    return canonicalJson(uncomposed(current)) === canonicalJson(uncomposed(u.doc));
  // A resolved file is derived from its agent: whatever the undo's re-sync wrote is its own.
  return u.op === 'put' && u.kind === 'resolved';
}

/** What an agent's re-composition rewrites: its pointers to what it was composed against. */
const COMPOSITION = [
  'personalityVersion',
  'roleVersion',
  'personalityHash',
  'roleHash',
  'modelHash',
  'configurationHash',
  'syncStatus',
];
const uncomposed = (d: StoredDoc | Record<string, unknown>) => {
  const b = { ...body(d) } as Record<string, unknown>;
  for (const k of COMPOSITION) delete b[k];
  return b;
};

/**
 * Applies an undo idempotently and only to this run's own writes: ops whose commit never
 * happened, or that were already undone, are skipped; a document someone else wrote since is
 * left as they wrote it and reported in `skipped` (this run's revision and the one found).
 *
 * `unconfirmed`: the undo of an intent, whose commit may not have happened. A commit is all or
 * nothing, so a put found holding what it wrote proves the whole commit happened. A missing
 * document proves nothing (another writer may have deleted it first): with no put to prove it,
 * a deletion is never undone, and is reported as not known to be this run's.
 */
export async function applyUndo(
  store: Store,
  undo: UndoOp[],
  intent?: RecordIntent,
  unconfirmed = false,
): Promise<UndoableCommit & { skipped: SkippedUndo[] }> {
  const ops: BatchOp[] = [];
  const skipped: SkippedUndo[] = [];
  const current = new Map<UndoOp, StoredDoc | undefined>();
  for (const u of undo) current.set(u, await store.get(u.kind, idOf(u)));
  // Proof is an exact match (revision and content): the same content at a later revision may be
  // someone else's write of identical content (an undo restoring it), never proof.
  const proven = !unconfirmed || undo.some((u) => u.wrote !== undefined && isOurs(u, current.get(u)));
  for (const u of undo) {
    const now = current.get(u);
    if (!proven && u.wrote === undefined && now === undefined && !isLegacy(u)) {
      skipped.push({ key: keyOf(u.kind, idOf(u)), wroteRevision: 0, foundRevision: 0, unknown: true });
      continue;
    }
    if (isOurs(u, now)) {
      const { beforeRevision: _b, beforeHash: _h, wrote: _w, ...op } = u;
      ops.push(op as BatchOp);
    } else if (proven && isOursAgain(u, now)) {
      // What this run wrote, back at a later revision: another writer's change stacked on it
      // was itself undone. Undone now, compare-and-swap on the revision that holds it.
      const { beforeRevision: _b, beforeHash: _h, wrote: _w, ...op } = u;
      ops.push({ ...op, expectedRevision: now!.revision } as BatchOp);
    } else if (!isBefore(u, now)) {
      skipped.push({
        key: keyOf(u.kind, idOf(u)),
        wroteRevision: u.expectedRevision ?? 0,
        foundRevision: now?.revision ?? 0,
      });
    }
  }
  return { ...(await commitWithUndo(store, ops, intent)), skipped };
}

/** The error a compensation reports when it left other writers' documents alone. */
export function skippedError(skipped: SkippedUndo[]): TroupeError {
  const list = skipped
    .map((x) =>
      x.unknown
        ? `${x.key} (deleted, but not known to be by this run: its commit may never have happened, and another writer may have deleted it; left deleted)`
        : `${x.key} (this run wrote ${x.wroteRevision ? `revision ${x.wroteRevision}` : 'its deletion'}; ` +
          `now ${x.foundRevision ? `revision ${x.foundRevision}` : 'deleted'} by another writer)`,
    )
    .join(', ');
  return new TroupeError(
    'CONCURRENT_MODIFICATION',
    `skipped undo of ${list}: changed by someone else since, so their version is kept`,
    // Retried with the step's policy: when the other writer's change is itself undone, what
    // this run wrote is back and its undo then applies (two failed changes stacked on one
    // document leave neither behind).
    { retryable: true, context: { skipped } },
  );
}
