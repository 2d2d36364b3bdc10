import { canonicalJson, contentHash } from '../domain/canonical.js';
import type { BatchOp, GuardOp, StoredDoc } from '../storage/store.js';

// How an undo knows a stored version for its own, for the one before, or for someone else's.

/**
 * An inverse op together with the identity of the write it undoes: the commit that wrote it
 * (`by`), the revision it produced (`expectedRevision`, 0 when it deleted) and the content
 * hash of what it wrote (`wrote`, absent when it deleted), plus the state before
 * (`beforeRevision`, `beforeHash`, absent when the document did not exist). An undo applies
 * only while the stored document is still the version this run's commit wrote.
 */
export type UndoOp = Exclude<BatchOp, GuardOp> & {
  beforeRevision: number;
  beforeHash?: string | undefined;
  wrote?: string | undefined;
  by?: string | undefined;
};

/** A document without the store's metadata: what a write or an undo puts. */
export const body = (d: StoredDoc | Record<string, unknown>) => {
  const { revision: _r, createdAt: _c, updatedAt: _u, commit: _k, $schema: _s, ...rest } = d as StoredDoc;
  return rest as StoredDoc;
};

/** The id an op writes. */
export const idOf = (op: Exclude<BatchOp, { op: 'absent' }>) => (op.op === 'put' ? op.doc.id : op.id);

/** An undo recorded before writes carried an identity: judged by revision numbers alone. */
export const isLegacy = (u: UndoOp) => u.wrote === undefined && u.beforeHash === undefined;

/** Whether both the undo and the stored version carry a commit id: identity is then exact. */
const stamped = (u: UndoOp, current: StoredDoc | undefined) =>
  u.by !== undefined && current?.commit !== undefined;

/**
 * Whether the stored document is the version the undone write left there: its commit's own
 * (at any revision: a change stacked on it and then undone puts it back, credited to it), or,
 * without commit ids, the same revision and content.
 */
export function isOurs(u: UndoOp, current: StoredDoc | undefined): boolean {
  if (isLegacy(u)) return (current?.revision ?? 0) === u.expectedRevision;
  if (u.wrote === undefined) return current === undefined;
  if (current === undefined || contentHash(current) !== u.wrote) return false;
  if (stamped(u, current)) return current.commit === u.by;
  return current.revision === u.expectedRevision;
}

/**
 * Without commit ids: whether the stored document holds exactly what this run wrote, at a
 * later revision. No-op writes never move a revision, so only a change stacked on ours and
 * then undone (restoring our content) brings it back this way.
 */
export function isOursAgain(u: UndoOp, current: StoredDoc | undefined): boolean {
  if (isLegacy(u) || u.wrote === undefined || current === undefined || stamped(u, current)) return false;
  return current.revision > (u.expectedRevision ?? 0) && contentHash(current) === u.wrote;
}

/** The undo of a create: a delete of what this run's commit wrote where nothing was before. */
export const isCreate = (u: UndoOp) =>
  u.op === 'delete' && u.beforeHash === undefined && u.wrote !== undefined && u.by !== undefined;

/** The commit whose version an undo puts back (absent: a version written before commit ids). */
export const putsBack = (u: UndoOp) => (u.op === 'put' ? (u.restore?.commit ?? u.commit) : undefined);

/** The undo of a write over a version that carries a commit id: it puts that version back. */
export const isPutBack = (u: UndoOp) => u.beforeHash !== undefined && putsBack(u) !== undefined;

/** Whether the stored document is as it was before the write (never applied, or already undone). */
export function isBefore(u: UndoOp, current: StoredDoc | undefined): boolean {
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
  // With commit ids, the same content written by another commit is theirs, not the version
  // before (an agent deleted, then created again exactly as it was by someone else).
  const was = putsBack(u);
  const theirs = was !== undefined && current.commit !== undefined && current.commit !== was;
  if (!theirs && contentHash(current) === u.beforeHash) return true;
  // Undone, then re-composed against the restored personality or role (an undo that was cut off
  // after its re-sync and runs again): the same agent, pointing at the revisions now stored, one
  // write past the version put back.
  if (u.op === 'put' && u.kind === 'agents')
    return (
      (!theirs || current.revision > u.beforeRevision) &&
      canonicalJson(uncomposed(current)) === canonicalJson(uncomposed(u.doc))
    );
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
