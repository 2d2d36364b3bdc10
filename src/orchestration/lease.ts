import { randomUUID } from 'node:crypto';
import { currentHolder, type Holder, holderState } from '../platform/holder.js';

/**
 * The right to execute one run, held by one runner at a time. `epoch` counts the claims of the
 * run: every event a holder appends carries it, and once a run is claimed again the events of
 * an earlier epoch (a zombie's, a holder that lost its lease and kept going) are not part of
 * the run any more (see foldRunEvents). The RunLog grants leases; the runner holds them.
 */
export interface RunLease {
  readonly runId: string;
  readonly epoch: number;
  /** Tells this claim apart from any other of the same epoch (there is none while claims are exclusive). */
  readonly token: string;
}

export interface ClaimOptions {
  /** Take the run even from a holder that may be alive (`troupe workflow recover --force`). */
  force?: boolean;
  /** Only a run that does not exist yet: a new run's id. */
  fresh?: boolean;
  /**
   * With `fresh`: the id is new by construction (a random UUID), so no other claim can hold
   * it; a log may write the claim down with the run's first event instead of on its own.
   */
  unique?: boolean;
}

/** How long a lease lasts without renewal; a holder renews it at a third of that. */
const DEFAULT_LEASE_MS = 30_000;

/** A lease as it is written down: by whom, until when, and whether it was given back. */
export interface LeaseRecord extends RunLease {
  holder: Holder;
  expiresAt: number;
  released?: boolean;
}

/**
 * What a run log needs to hand out leases: new ones for this process, and their renewal at a
 * third of their time until stopped (a holder whose process dies stops renewing, and its lease
 * runs out). The timers never keep the process alive.
 */
export class LeaseKeeper {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly ttlMs: number;

  /** `renew` is the log's own: it writes the new expiry down, false once the lease is lost. */
  constructor(
    ttlMs: number | undefined,
    readonly renew: (lease: RunLease) => Promise<boolean>,
  ) {
    this.ttlMs = ttlMs ?? DEFAULT_LEASE_MS;
  }

  /** A lease of this process on the run, renewed from now on. */
  grant(runId: string, epoch: number): LeaseRecord {
    const lease = { runId, epoch, token: randomUUID(), holder: currentHolder(), expiresAt: this.expiry() };
    this.start(lease);
    return lease;
  }

  /** When a lease granted or renewed now runs out. */
  expiry(): number {
    return Date.now() + this.ttlMs;
  }

  start(lease: RunLease): void {
    this.stop(lease);
    const timer = setInterval(
      () => {
        void this.renew(lease).then(
          (ok) => ok || this.stop(lease),
          () => undefined,
        );
      },
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    this.#timers.set(lease.token, timer);
  }

  stop(lease: RunLease): void {
    clearInterval(this.#timers.get(lease.token));
    this.#timers.delete(lease.token);
  }

  /** Stops every renewal: what a process's death does to its leases. */
  stopAll(): void {
    for (const t of this.#timers.values()) clearInterval(t);
    this.#timers.clear();
  }
}

/**
 * Whether a lease still binds: not given back, and its holder alive. A process on this host
 * is judged by its liveness (a killed one frees its runs at once); this process and another
 * host's, which cannot be checked from here, by the lease's expiry.
 */
export function leaseHeld(l: LeaseRecord | undefined, now = Date.now()): boolean {
  if (!l || l.released) return false;
  const state = holderState(l.holder);
  if (state === 'dead') return false;
  if (state === 'alive') return true;
  return now < l.expiresAt;
}
