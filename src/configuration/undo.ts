import { canonicalJson, contentHash } from '../domain/canonical.js';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import { scrubStored } from '../domain/secrets.js';
import type { CarriedEvents } from '../orchestration/handlers.js';
import { checkRevision, keyOf, newCommitId } from '../storage/batch.js';
import {
  type BatchOp,
  type CommitOptions,
  type CommitResult,
  type Fence,
  type GuardOp,
  isGuard,
  type Store,
  type StoredDoc,
} from '../storage/store.js';
import {
  body,
  idOf,
  isBefore,
  isCreate,
  isLegacy,
  isOurs,
  isOursAgain,
  isPutBack,
  putsBack,
  type UndoOp,
} from './undo-identity.js';

export type { UndoOp };

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

/**
 * A document whose undo did not apply because someone else wrote it after this run did. An
 * undo is all or nothing: with one document skipped, none is undone (see applyUndo).
 */
export interface SkippedUndo {
  key: string;
  /** The revision this run's write produced (0: this run deleted it). */
  wroteRevision: number;
  /** The revision stored now (0: it does not exist). */
  foundRevision: number;
  /** A deletion this run may not have made (the undo of an unconfirmed intent): left as it is. */
  unknown?: boolean;
  /** What is stored now is a file written by hand (revision 0), not nothing. */
  handWritten?: boolean;
}

/**
 * Durably records the undo before the commit, so a crash mid-step can still be undone; or
 * returns it to be carried by the commit itself (see StepContext.intentCarried).
 */
export type RecordIntent =
  | ((
      data: { undo: UndoOp[]; touched: string[] },
      opts?: { carried?: boolean },
    ) => Promise<CarriedEvents | undefined> | Promise<void>)
  | undefined;

export { contentHash };

/** Errors a store raises before it writes anything: the batch was refused as a whole. */
const REFUSED = new Set(['CONCURRENT_MODIFICATION', 'ALREADY_EXISTS', 'NOT_FOUND', 'VALIDATION_FAILED']);

/**
 * Commits a batch and returns its inverse, computed before the commit (revisions are pinned,
 * so the revision each write produces is known) and handed to `intent` first. Ops without an
 * expected revision are pinned to the revision read just before: the inverse is exact, or
 * the commit fails with CONCURRENT_MODIFICATION. A put of exactly what is stored becomes a
 * guard, so a change that changes nothing writes nothing (and bumps no revision).
 */
/** What a step's commit carries from its context: its signal and its run's fence. */
export const writeOptions = (ctx: { signal?: AbortSignal; fence?: Fence } | undefined): CommitOptions => ({
  signal: ctx?.signal,
  fence: ctx?.fence,
});

/** A create, or a restore: the store refuses it over any document, even one written by hand. */
const replacesNothing = (op: BatchOp) => op.op === 'put' && (op.create === true || op.restore !== undefined);

export async function commitWithUndo(
  store: Store,
  ops: BatchOp[],
  intent?: RecordIntent,
  /**
   * The caller's signal (an abort before the commit point writes nothing; an undo passes none:
   * it must finish) and its run's fence (a taken-over run's zombie writes nothing).
   */
  opts: CommitOptions = {},
): Promise<UndoableCommit> {
  // This commit's id, known before it commits so the intent names it: every version it writes
  // is credited to it, except what an undo puts back (credited to the commit that wrote it).
  const id = store.newCommitId?.() ?? newCommitId();
  const prev = new Map<string, StoredDoc | undefined>();
  const finalRev = new Map<string, number>();
  const finalDoc = new Map<string, BatchOp | undefined>();
  const pinned: BatchOp[] = [];
  // What each document's first op replaces, read all at once (one round trip on a database,
  // parallel on disk). A create (or a restore) replaces nothing if it commits at all, so it
  // reads nothing; an op merely expecting revision 0 may replace a file written by hand.
  const firstOps = new Map<string, Exclude<BatchOp, GuardOp>>();
  for (const op of ops) {
    if (isGuard(op)) continue;
    const key = keyOf(op.kind, idOf(op));
    if (!firstOps.has(key)) firstOps.set(key, op);
  }
  const current = new Map(
    await Promise.all(
      [...firstOps]
        .filter(([, op]) => !replacesNothing(op))
        .map(async ([key, op]) => [key, await store.get(op.kind, idOf(op))] as const),
    ),
  );
  for (const op of ops) {
    if (isGuard(op)) {
      pinned.push(op); // a guard: nothing to undo
      continue;
    }
    const key = keyOf(op.kind, idOf(op));
    let before: StoredDoc | undefined;
    if (!prev.has(key)) {
      before = current.get(key);
      // The undo is computed from this read, so it must be what the commit replaces. A create
      // replaces nothing if it commits at all; any other expected revision this read contradicts
      // is refused now, as the store would refuse it at this moment.
      if (replacesNothing(op)) before = undefined;
      else checkRevision(op.kind, idOf(op), op.expectedRevision, before);
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
    pinned.push({
      ...op,
      ...pin,
      ...(op.op === 'put' && !op.commit && !op.restore?.commit ? { commit: id } : {}),
    });
    if (op.op === 'put') finalRev.set(key, finalRev.get(key)! + 1);
    finalDoc.set(key, op.op === 'put' ? op : undefined);
  }
  if (finalDoc.size === 0) return { undo: [], touched: [], results: [], unchanged: true };
  const undo: UndoOp[] = [];
  for (const [key, last] of finalDoc) {
    // What is put back holds no key a hand pasted into it (as a backup does not): neither the
    // run log's record of it nor the document an undo writes.
    const before = scrubStored(prev.get(key));
    const [kind, docId] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)] as [
      UndoOp['kind'],
      string,
    ];
    const beforeRevision = before?.revision ?? 0;
    const put = last && last.op === 'put' ? last : undefined;
    const identity = {
      beforeRevision,
      beforeHash: before ? contentHash(before) : undefined,
      wrote: put ? contentHash(put.doc) : undefined,
      by: put ? (put.restore?.commit ?? put.commit ?? id) : undefined,
    };
    // What is put back is credited to the commit that wrote it, as it was.
    const credit = before?.commit !== undefined ? { commit: before.commit } : {};
    const after = last ? finalRev.get(key)! : 0;
    if (after && before)
      undo.push({ op: 'put', kind, doc: body(before), expectedRevision: after, ...credit, ...identity });
    else if (after) undo.push({ op: 'delete', kind, id: docId, expectedRevision: after, ...identity });
    else if (before?.revision === 0)
      // A file written by hand (no metadata): brought back with its content, as a first
      // revision, and only where nothing is now (a newer file written by hand stays).
      undo.push({ op: 'put', kind, doc: body(before), create: true, ...identity });
    else if (before) {
      // Brought back exactly as it was, revision included, so agents composed against it stay valid.
      const restore = {
        revision: before.revision,
        createdAt: before.createdAt,
        updatedAt: before.updatedAt,
        ...credit,
      };
      undo.push({ op: 'put', kind, doc: body(before), expectedRevision: 0, restore, ...identity });
    }
  }
  const touched = [...finalDoc.keys()];
  const recorded = { undo: [...undo], touched, unconfirmed: true };
  const carried = (await intent?.(recorded, { carried: true })) ?? undefined;
  try {
    // The intent lands with the commit, in its transaction, or on its own before it.
    const carries = carried !== undefined && store.carries?.(carried) === true;
    if (carried && !carries) await carried.flush();
    const { results } = await store.commit(pinned, carries ? { ...opts, carried } : opts);
    return { undo, touched, results };
  } catch (e) {
    // Refused as a whole (a lost race, say): it wrote nothing, so there is nothing to undo.
    if (isTroupeError(e) && REFUSED.has(e.code)) {
      recorded.undo.length = 0;
      // The log holds its own copy of the intent, undo and all: a recovery after a crash from
      // here would undo this step from it, over what others wrote since. A later intent that
      // undoes nothing takes its place (a step's last intent is what recovery reads).
      carried?.end();
      await intent?.({ undo: [], touched: [] }).catch(() => undefined);
    }
    throw e;
  } finally {
    carried?.end();
  }
}

/** How an undo is applied: see applyUndo. */
interface UndoOptions {
  unconfirmed?: boolean | undefined;
  /** The run's lease: a taken-over run's undo writes nothing (it is the new holder's). */
  fence?: Fence | undefined;
  /** By a recovery: the writer of the commit the intent announced may be alive still. */
  recovering?: boolean | undefined;
}

/**
 * Applies an undo idempotently and only to this run's own writes: ops whose commit never
 * happened, or that were already undone, are skipped; a document someone else wrote since is
 * left as they wrote it and reported in `skipped` (this run's revision and the one found).
 *
 * All or nothing: once another writer has built on one document of this change, the rest of
 * it is kept too (`kept`) and nothing is written. Undoing only part would leave a mix no order
 * of the two changes explains (an agent brought back onto a personality someone created anew).
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
  opts: UndoOptions = {},
): Promise<AppliedUndo> {
  // Judged on what it read: a commit refused as a whole (another writer got in between) wrote
  // nothing, so the undo is judged again on what is stored now.
  for (let tries = 1; ; tries++) {
    try {
      return await applyUndoOnce(store, undo, intent, opts);
    } catch (e) {
      if (!isTroupeError(e) || !REFUSED.has(e.code) || e.code === 'VALIDATION_FAILED') throw e;
      // A write refused because the run was taken over is the new holder's to undo: stop at once.
      if (e.context.heldEpoch !== undefined) throw e;
      if (tries >= UNDO_TRIES) throw starved(e);
    }
  }
}

/**
 * An undo that lost every race it ran (writers busy on the same documents) has not failed: it is
 * TRANSIENT, so the run is left to recovery, which judges it again once they are done. A
 * fenced write (the run was taken over) is not this: it is the new holder's to undo.
 */
export const starved = (e: TroupeError, what = `the undo lost ${UNDO_TRIES} races in a row`) =>
  new TroupeError(
    'TRANSIENT',
    `${what} to other writers of the same documents (last: ${e.message}); it is tried again later`,
    { cause: e, context: e.context },
  );

/** How many times an undo is judged again after losing a race, before the step's policy retries it. */
const UNDO_TRIES = 5;

type AppliedUndo = UndoableCommit & { skipped: SkippedUndo[]; kept: string[] };

async function applyUndoOnce(
  store: Store,
  undo: UndoOp[],
  intent: RecordIntent,
  { unconfirmed = false, fence, recovering = false }: UndoOptions,
): Promise<AppliedUndo> {
  if (unconfirmed && recovering)
    // The commit the intent announced may be under way still: its writer past the run's fence,
    // holding the store's lock (or stalled there), its files landing one by one for a reader
    // without the lock. An empty commit waits for it to finish whole; after it, that writer's
    // next commit is refused by the fence. So what is read below is all of it or none of it.
    await store.commit([], { fence });
  const ops: BatchOp[] = [];
  const skipped: SkippedUndo[] = [];
  const current = new Map<UndoOp, StoredDoc | undefined>();
  for (const u of undo) current.set(u, await store.get(u.kind, idOf(u)));
  // Proof is the version its commit wrote (by commit id, or without ids by revision and
  // content): the same content at a later revision may be someone else's identical write.
  const proven = !unconfirmed || undo.some((u) => u.wrote !== undefined && isOurs(u, current.get(u)));
  // A confirmed commit's own document gone: someone else deleted it, unless this undo already
  // ran (it is one commit: a version it put back, found again, shows it did).
  const undone = undo.some((u) => {
    const now = current.get(u);
    return (
      now !== undefined && isPutBack(u) && now.commit === putsBack(u) && contentHash(now) === u.beforeHash
    );
  });
  for (const u of undo) {
    const now = current.get(u);
    if (!unconfirmed && !undone && isCreate(u) && now === undefined) {
      // Skipped and retried: another writer's change built on this one (a cascade deleting
      // what it created) may itself be undone, putting it back for this undo.
      skipped.push({ key: keyOf(u.kind, idOf(u)), wroteRevision: u.expectedRevision ?? 0, foundRevision: 0 });
      continue;
    }
    if (!proven && u.wrote === undefined && now === undefined && !isLegacy(u)) {
      skipped.push({ key: keyOf(u.kind, idOf(u)), wroteRevision: 0, foundRevision: 0, unknown: true });
      continue;
    }
    if (isOurs(u, now) || (proven && isOursAgain(u, now))) {
      // At a later revision: another writer's change stacked on it was itself undone, putting
      // back what this run wrote. Undone now, compare-and-swap on the revision that holds it.
      const { beforeRevision: _b, beforeHash: _h, wrote: _w, by: _by, ...op } = u;
      ops.push({ ...op, ...(now ? { expectedRevision: now.revision } : {}) } as BatchOp);
    } else if (!isBefore(u, now)) {
      skipped.push({
        key: keyOf(u.kind, idOf(u)),
        wroteRevision: u.expectedRevision ?? 0,
        foundRevision: now?.revision ?? 0,
        ...(now?.revision === 0 ? { handWritten: true } : {}),
      });
    }
  }
  if (skipped.some((x) => !x.unknown)) {
    const kept = ops.map((op) => keyOf(op.kind, idOf(op as Exclude<BatchOp, { op: 'absent' }>)));
    return { undo: [], touched: [], results: [], unchanged: true, skipped, kept };
  }
  return { ...(await commitWithUndo(store, ops, intent, { fence })), skipped, kept: [] };
}

/** The error a compensation reports when it left other writers' documents alone. */
export function skippedError(skipped: SkippedUndo[], kept: string[] = []): TroupeError {
  const list = skipped
    .map((x) =>
      x.unknown
        ? `${x.key} (deleted, but not known to be by this run: its commit may never have happened, and another writer may have deleted it; left deleted)`
        : `${x.key} (this run wrote ${x.wroteRevision ? `revision ${x.wroteRevision}` : 'its deletion'}; ` +
          `now ${x.foundRevision ? `revision ${x.foundRevision}` : x.handWritten ? 'a file written by hand' : 'deleted'} by another writer)`,
    )
    .join(', ');
  const rest = kept.length
    ? `; the rest of this change is kept whole too (${kept.join(', ')}): undoing only part of it would mix two changes`
    : '';
  return new TroupeError(
    'CONCURRENT_MODIFICATION',
    `skipped undo of ${list}: changed by someone else since, so their version is kept${rest}`,
    // Retried with the step's policy: when the other writer's change is itself undone, what
    // this run wrote is back and its undo then applies (two failed changes stacked on one
    // document leave neither behind).
    { retryable: true, context: { skipped, kept } },
  );
}
