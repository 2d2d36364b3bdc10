import { TroupeError } from '../domain/errors.js';
import type { Fence } from './store.js';

/**
 * Refuses a commit fenced by a run's lease once the run has been claimed at a later epoch (by
 * another instance, or by `workflow recover --force`): a zombie writes nothing. `epoch` is the
 * run's latest as the store finds it, under its commit's lock (`'ended'`: the run has been
 * finished by the instance that took it); undefined when the store keeps no lease of that run
 * (its log is elsewhere): nothing to check then.
 */
export function checkFence(fence: Fence, epoch: number | 'ended' | undefined): void {
  if (epoch === 'ended')
    throw new TroupeError(
      'CONCURRENT_MODIFICATION',
      `run ${fence.runId} was taken over by another instance, which has finished it since (this write holds epoch ${fence.epoch}): nothing was written`,
      { retryable: false, context: { runId: fence.runId, heldEpoch: fence.epoch } },
    );
  if (epoch !== undefined && epoch !== fence.epoch)
    throw new TroupeError(
      'CONCURRENT_MODIFICATION',
      `run ${fence.runId} was taken over by another instance (its lease is at epoch ${epoch}, this write holds ${fence.epoch}): nothing was written`,
      { retryable: false, context: { runId: fence.runId, epoch, heldEpoch: fence.epoch } },
    );
}
