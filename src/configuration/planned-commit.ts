import { setTimeout as sleep } from 'node:timers/promises';
import { isTroupeError } from '../domain/errors.js';
import type { StepContext } from '../orchestration/handlers.js';
import type { BatchOp } from '../storage/store.js';
import type { Services } from './services.js';
import { commitWithUndo, type UndoableCommit, writeOptions } from './undo.js';
import { allowFor } from './work-allowance.js';

/** How many times a change is planned again after losing a race before the conflict is the caller's. */
export const MAX_REPLANS = 16;

/** Full jitter, doubling from 2 ms up to 100 ms: contenders spread out instead of colliding again. */
const backoff = (attempt: number, random: () => number) =>
  1 + Math.floor(random() * Math.min(100, 2 ** (attempt + 1)));

/**
 * Plans a change and commits the whole plan as one store commit, guarded by the revisions the
 * plan read. A commit refused because something it read changed meanwhile (a lost race) wrote
 * nothing: the change is planned again on fresh state, up to MAX_REPLANS times with jitter,
 * so the caller's own conditions (an expected revision, a conflict strategy) are judged
 * against what is really stored. Two such changes can never interleave.
 */
export async function commitPlanned<P extends { ops: BatchOp[] }>(
  s: Services,
  plan: () => Promise<P>,
  ctx?: StepContext,
  first?: P,
  /**
   * `plan` decides afresh what to create (a declarative apply): a create that lost its race
   * (ALREADY_EXISTS at the commit: another writer created it since the plan) is planned again
   * too, and comes out unchanged, an update, or refused, as it would have planned after it.
   */
  opts: { replansCreates?: boolean } = {},
): Promise<Omit<P, 'ops'> & UndoableCommit & { replans: number }> {
  let planned = first ?? (await plan());
  for (let replans = 0; ; replans++) {
    try {
      const { ops, ...rest } = planned;
      allowFor(ctx, ops.length);
      const committed = await commitWithUndo(s.store, ops, ctx?.intent, writeOptions(ctx));
      return { ...rest, ...committed, unchanged: committed.unchanged ?? false, replans };
    } catch (e) {
      const lostRace =
        isTroupeError(e) &&
        ((e.code === 'CONCURRENT_MODIFICATION' && e.retryable !== false) ||
          (e.code === 'ALREADY_EXISTS' && opts.replansCreates === true));
      if (!lostRace || replans >= MAX_REPLANS || ctx?.signal.aborted) throw e;
    }
    // On the step's clock, so a virtual clock in tests drives the wait like any other.
    const random = ctx?.random;
    if (ctx) await ctx.clock.sleep(backoff(replans, random ? () => random.next() : Math.random), ctx.signal);
    else await sleep(backoff(replans, Math.random));
    planned = await plan();
  }
}
