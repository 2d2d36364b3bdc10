import { hostname } from 'node:os';
import { processAlive, startTimeOf } from './liveness.js';

/** A process that holds something (a lock, a run's lease): written down so others can judge it. */
export interface Holder {
  pid: number;
  host: string;
  /** When the process started (Linux clock ticks since boot), so a reused pid is told apart. */
  started?: string;
}

const STARTED = startTimeOf(process.pid);
const HOST = hostname();

/** This process, as a holder. */
export const currentHolder = (): Holder => ({
  pid: process.pid,
  host: HOST,
  ...(STARTED ? { started: STARTED } : {}),
});

/**
 * What can be known of a holder from here: `self` (this very process: whether it still holds
 * is for the caller's own books, or a lease's expiry), `alive` or `dead` (another process on
 * this host: signal 0, not a zombie, not a reused pid), or `elsewhere` (another host, which
 * cannot be checked from here). The one liveness judgement of lock holders and run leases.
 */
export function holderState(h: Holder): 'self' | 'alive' | 'dead' | 'elsewhere' {
  if (h.host !== HOST) return 'elsewhere';
  if (h.pid === process.pid && (h.started === undefined || h.started === STARTED)) return 'self';
  return processAlive(h.pid, h.started) ? 'alive' : 'dead';
}
