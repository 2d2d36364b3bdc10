import { randomBytes } from 'node:crypto';
import { DurablePoints } from '../orchestration/durable-points.js';
import { ENDED_STATES } from '../orchestration/events.js';
import type { CarriedEvents } from '../orchestration/handlers.js';
import {
  type ClaimOptions,
  LeaseKeeper,
  type LeaseRecord,
  leaseHeld,
  type RunLease,
} from '../orchestration/lease.js';
import {
  foldRunEvents,
  type RunEvent,
  type RunLog,
  type RunRecord,
  type RunSummary,
} from '../orchestration/run-log.js';
import type { RunPageOptions } from '../orchestration/run-pages.js';
import type { Holder } from '../platform/holder.js';
import { writeEvents } from './run-events.js';
import { allRuns, pageRuns, prefixedRuns } from './run-listing.js';
import { databaseError, retryingRaces, type Sql, type SqlClient } from './sql.js';
import { WriteBehind } from './write-behind.js';

/**
 * How long a run's progress events wait to go out together (or with the run's next durable
 * point, whichever comes first): a short run writes its log in three statements, not one per step.
 */
const PROGRESS_DELAY_MS = 25;

/** A lease lasts this long unrenewed: a killed instance's runs are taken over within it. */
const DEFAULT_LEASE_MS = 9_000;

type RunRow = {
  run_id: string;
  workflow_id: string;
  state: RunSummary['state'];
  created_at: string | number;
  updated_at: string | number;
  epoch: number;
  lease_token: string | null;
  lease_holder: Holder | null;
  /** Milliseconds until the lease runs out, on the database's clock (negative: it has). */
  lease_left_ms: number | null;
  released: boolean;
};

const SUMMARY = `run_id, workflow_id, state, created_at, updated_at, epoch, lease_token, lease_holder, released,
  (extract(epoch FROM lease_expires_at - now()) * 1000)::float8 AS lease_left_ms`;

/**
 * Runs and their events in PostgreSQL, shared by every instance on the database. A run is
 * claimed by one instance at a time with a lease on its row (an epoch, a holder, an expiry on
 * the database's clock, renewed at a third of its time); a claim locks the row, skipping one
 * another instance is claiming right now, so two instances never both get a run. Every event
 * carries the epoch it was written under; once a run is claimed again, a zombie's events are
 * not part of it (the fold skips them) and cannot move its state.
 */
export class PostgresRunLog implements RunLog {
  readonly #db: SqlClient;
  readonly #keeper: LeaseKeeper;
  readonly #durable = new DurablePoints();
  readonly #queue = new WriteBehind<RunEvent>(
    (runId, events, durable) => this.#write(runId, events, durable),
    { delayMs: PROGRESS_DELAY_MS },
  );

  constructor(db: SqlClient, opts: { leaseMs?: number } = {}) {
    this.#db = db;
    this.#keeper = new LeaseKeeper(opts.leaseMs ?? DEFAULT_LEASE_MS, (l) => this.renew(l));
  }

  /** A call to the database; a transaction that lost a race to another instance's is run again. */
  async #do<T>(doing: string, fn: (db: SqlClient) => Promise<T>): Promise<T> {
    try {
      return await retryingRaces(() => fn(this.#db));
    } catch (e) {
      throw databaseError(e, this.#db.where, doing);
    }
  }

  /** The lease as the row records it, for `leaseHeld` (expiry judged on the database's clock). */
  #lease(row: RunRow): LeaseRecord | undefined {
    if (!row.lease_token || !row.lease_holder) return undefined;
    const left = row.lease_left_ms ?? -1;
    return {
      runId: row.run_id,
      epoch: row.epoch,
      token: row.lease_token,
      holder: row.lease_holder,
      expiresAt: Date.now() + left,
      ...(row.released ? { released: true } : {}),
    };
  }

  /** This log's own writes of the run that other readers must see first: its row, its release. */
  async #landed(runId: string): Promise<void> {
    await this.#releasing.get(runId);
    if (this.#unrecorded.has(runId)) await this.#queue.send(runId, false).catch(() => undefined);
  }

  async claim(runId: string, opts: ClaimOptions = {}): Promise<RunLease | undefined> {
    const lease = this.#keeper.grant(runId, 0);
    this.#keeper.stop(lease);
    const ttl = this.#keeper.ttlMs;
    if (opts.fresh && opts.unique) {
      // Written down with the run's first event (see writeEvents), which goes out at once.
      const granted = { ...lease, epoch: 1 };
      this.#unrecorded.set(runId, granted);
      this.#keeper.start(granted);
      return granted;
    }
    await this.#landed(runId);
    // A new run's lease needs no synchronous commit: lost in a crash, the run never began.
    const epoch = await this.#do('claim a run', async (db) => {
      if (opts.fresh) {
        const { rows } = await db.relaxed.query<{ epoch: number }>(
          // A row with no events whose claim was let go or ran out (a claimant that died, or
          // stalled, before recording the run) is taken over at the next epoch: its old
          // claimant's lines and fenced writes fall behind.
          `INSERT INTO troupe_runs AS r (run_id, epoch, lease_token, lease_holder, lease_expires_at)
           VALUES ($1, 1, $2, $3, now() + $4 * interval '1 millisecond')
           ON CONFLICT (run_id) DO UPDATE SET epoch = r.epoch + 1, lease_token = EXCLUDED.lease_token,
             lease_holder = EXCLUDED.lease_holder, lease_expires_at = EXCLUDED.lease_expires_at, released = false
           WHERE (r.released OR r.lease_expires_at < now())
             AND NOT EXISTS (SELECT 1 FROM troupe_run_events e WHERE e.run_id = r.run_id)
           RETURNING epoch`,
          [runId, lease.token, JSON.stringify(lease.holder), ttl],
        );
        return rows[0]?.epoch;
      }
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<RunRow>(
          // A row locked now is being claimed, or written by its live holder: not free, unless
          // forced (a forced claim waits its turn).
          `SELECT ${SUMMARY} FROM troupe_runs WHERE run_id = $1 FOR UPDATE${opts.force ? '' : ' SKIP LOCKED'}`,
          [runId],
        );
        const row = rows[0];
        if (!row) return undefined; // no such run, or another instance is claiming it right now
        if (!opts.force && leaseHeld(this.#lease(row))) return undefined;
        const next = row.epoch + 1;
        // The claim is in the run's log as it commits: an old holder's line written after it
        // comes after it (and is set aside); the holder's own `claimed` event is not written again.
        const claimed: RunEvent = { type: 'claimed', at: Date.now(), holder: lease.holder, epoch: next };
        await tx.query(
          `WITH run AS (UPDATE troupe_runs SET epoch = $2, lease_token = $3, lease_holder = $4, released = false,
             lease_expires_at = now() + $5 * interval '1 millisecond' WHERE run_id = $1 RETURNING run_id)
           INSERT INTO troupe_run_events (run_id, epoch, event) SELECT run_id, $2, $6 FROM run`,
          [runId, next, lease.token, JSON.stringify(lease.holder), ttl, JSON.stringify(claimed)],
        );
        return next;
      });
    });
    if (epoch === undefined) return undefined;
    if (!opts.fresh) this.#claimRecorded.add(`${runId}\u0000${epoch}`);
    const granted = { ...lease, epoch };
    this.#keeper.start(granted);
    return granted;
  }

  async renew(lease: RunLease): Promise<boolean> {
    // A new run's row is on its way (made with its first event): no other claim can hold it.
    if (this.#unrecorded.get(lease.runId)?.token === lease.token) return true;
    const { rows } = await this.#do('renew a lease', (db) =>
      // Renewals and releases need no synchronous commit: a lost one only makes a lease last
      // until it runs out, or its holder is seen dead.
      db.relaxed.query(
        `UPDATE troupe_runs SET lease_expires_at = now() + $3 * interval '1 millisecond'
         WHERE run_id = $1 AND lease_token = $2 AND NOT released RETURNING 1`,
        [lease.runId, lease.token, this.#keeper.ttlMs],
      ),
    );
    return rows.length > 0;
  }

  /**
   * Gives the lease back, behind: after the run's events, without holding up its holder (the
   * run has ended or stopped; a release lost in a crash only makes the lease last until it
   * runs out). This log's own claims and reads of the run wait for it.
   */
  async release(lease: RunLease): Promise<void> {
    this.#keeper.stop(lease);
    const released = this.#queue
      .send(lease.runId, false) // its events land before another may claim it
      .then(() =>
        // A run whose end this log wrote gave its lease back in that very statement.
        this.#endWritten.get(lease.runId) === lease.epoch
          ? undefined
          : this.#do('release a lease', (db) =>
              db.relaxed.query(
                'UPDATE troupe_runs SET released = true WHERE run_id = $1 AND lease_token = $2',
                [lease.runId, lease.token],
              ),
            ),
      )
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.#releasing.get(lease.runId) === released) this.#releasing.delete(lease.runId);
        if ((this.#endWritten.get(lease.runId) ?? Number.POSITIVE_INFINITY) <= lease.epoch)
          this.#endWritten.delete(lease.runId);
      });
    this.#releasing.set(lease.runId, released);
  }

  /** Releases under way, by run. */
  readonly #releasing = new Map<string, Promise<void>>();

  /**
   * Runs whose end this log has written, with the epoch of the lease it was written under (see
   * writeEvents: that lease went back with it; a later lease of the run has its own release).
   */
  readonly #endWritten = new Map<string, number>();

  async isHeld(runId: string): Promise<boolean> {
    await this.#landed(runId);
    const { rows } = await this.#do('read a run', (db) =>
      db.query<RunRow>(`SELECT ${SUMMARY} FROM troupe_runs WHERE run_id = $1`, [runId]),
    );
    return rows[0] ? leaseHeld(this.#lease(rows[0])) : false;
  }

  /**
   * An event of the run. Events recovery relies on (see DurablePoints) are committed
   * synchronously before the call returns, together with every earlier event of the run still
   * on its way, in one statement. The others are written behind: batched per run and sent
   * PROGRESS_DELAY_MS later without waiting for the disk (a takeover's `claimed` event before
   * the call returns), as a file log leaves them to the next fsync; a read of this log sees
   * them at once, another instance within that delay. A
   * crash of this instance may lose progress events since the run's last durable point, never a
   * durable one. An event of an epoch older than the run's is kept (the fold sets it aside) but
   * moves nothing.
   */
  async append(runId: string, event: RunEvent): Promise<void> {
    if (event.type === 'claimed' && this.#claimRecorded.delete(`${runId}\u0000${event.epoch}`)) return;
    const durable = this.#durable.mustPersist(runId, event);
    // A retried append (the log was away) is of the same event, still queued: not added twice.
    if (!this.#queue.has(runId, event)) this.#queue.add(runId, event);
    // A takeover's claim is written before anything else happens: a zombie's later lines come
    // after it. A new run's `created` waits for its first durable point (or the delay): lost in
    // a crash before that, the run never began as far as anyone can tell, and nothing of it
    // needs undoing (its first write that does carries it, or comes after it).
    if (durable || event.type === 'claimed') await this.#queue.send(runId, durable);
  }

  /**
   * A step's intent, carried by the step's commit to this same database (see CarriedEvents):
   * queued with the run held, so nothing else writes the run meanwhile, and written by the
   * commit's transaction with every event before it (the run's summary moved in the same
   * statement, a new run's row made with it): it lands with the write it announces, in that one
   * synchronous commit. Appended as `append` does where that cannot be: another commit of the
   * run carries its events right now.
   */
  async appendCarried(runId: string, event: RunEvent): Promise<CarriedEvents | undefined> {
    if (event.type !== 'step' || this.#queue.isHeld(runId)) {
      await this.append(runId, event);
      return undefined;
    }
    const held = await this.#queue.hold(runId);
    this.#durable.mustPersist(runId, event);
    this.#queue.add(runId, event);
    let committed = false;
    return {
      sink: this.#db,
      writeIn: async (tx) => {
        let decide: (ok: boolean) => void = () => {};
        const decided = new Promise<boolean>((r) => {
          decide = r;
        });
        let wrote: () => void = () => {};
        const inTx = new Promise<void>((r) => {
          wrote = r;
        });
        // Counted written once the commit is known to have happened; else back in the queue.
        const written = held.write(event, async (events) => {
          await this.#writeTo(tx as Sql, runId, events, event);
          wrote();
          if (!(await decided)) throw new Error('the commit carrying these events did not happen');
          this.#unrecorded.delete(runId);
        });
        written.catch(() => undefined);
        await Promise.race([inTx, written]);
        return (ok) => {
          if (ok) committed = true;
          decide(ok);
        };
      },
      flush: async () => {
        held.release();
        await this.#queue.send(runId, true);
        committed = true;
      },
      end: () => {
        // Not carried after all (the commit did not happen): the step's success needs its own sync.
        if (!committed) this.#durable.notIntended(runId, event.stepId);
        held.release();
      },
    };
  }

  /** Writes a run's queued events (one statement), synchronously committed if `durable`. */
  async #write(runId: string, events: RunEvent[], durable: boolean): Promise<void> {
    await this.#do('record a run event', (db) => this.#writeTo(durable ? db : db.relaxed, runId, events));
    this.#unrecorded.delete(runId);
    const end = events.findLast((e) => e.type === 'state' && ENDED_STATES.has(e.to));
    if (end) this.#endWritten.set(runId, end.epoch ?? 0);
  }

  /**
   * A run's events in one statement on `db`; a new run's row (and lease) made with its first.
   * `carried`: the intent a commit's own transaction writes, stored marked as carried (its
   * presence proves the commit; see StepEvent.carried). Written any other way, it is not marked.
   */
  #writeTo(db: Sql, runId: string, events: RunEvent[], carried?: RunEvent): Promise<void> {
    const claim = events[0]?.type === 'created' ? this.#unrecorded.get(runId) : undefined;
    const row = claim && { token: claim.token, holder: claim.holder, ttlMs: this.#keeper.ttlMs };
    return writeEvents(
      db,
      runId,
      carried ? events.map((e) => (e === carried ? { ...e, carried: true as const } : e)) : events,
      events.map((e) => this.#keyOf(e)),
      row,
    );
  }

  /** This log's name in event keys: drawn at random, so no two logs' keys meet. */
  readonly #name = randomBytes(9).toString('base64url');
  #drawn = 0;
  readonly #keys = new WeakMap<RunEvent, string>();

  /** An event's key, the same each time it is sent: a write sent again adds it only once. */
  #keyOf(event: RunEvent): string {
    let key = this.#keys.get(event);
    if (key === undefined) {
      key = `${this.#name}.${++this.#drawn}`;
      this.#keys.set(event, key);
    }
    return key;
  }

  /** `runId\0epoch` of claims whose `claimed` event the claim itself wrote. */
  readonly #claimRecorded = new Set<string>();

  /** Claims of new runs (unique ids) not written yet: their row is made with their first event. */
  readonly #unrecorded = new Map<string, LeaseRecord>();

  async read(runId: string): Promise<RunRecord | undefined> {
    await this.#queue.send(runId, false).catch(() => undefined); // a failed write is the appender's to hear
    const { rows } = await this.#do('read a run', (db) =>
      db.query<{ event: RunEvent }>('SELECT event FROM troupe_run_events WHERE run_id = $1 ORDER BY seq', [
        runId,
      ]),
    );
    try {
      return rows.length ? foldRunEvents(rows.map((r) => r.event)) : undefined;
    } catch (e) {
      // Edited with SQL past reading: said once per listing (see unreadable), and left alone.
      const error = e instanceof Error ? e.message : String(e);
      if (!this.unreadable.some((u) => u.runId === runId)) this.unreadable.push({ runId, error });
      throw e;
    }
  }

  /** Runs whose events could not be read since the last listing (edited with SQL), with why. */
  unreadable: Array<{ runId: string; error: string }> = [];

  list(): Promise<RunSummary[]> {
    this.unreadable = [];
    return this.#listing((db) => allRuns(db));
  }

  listUnfinished(): Promise<RunSummary[]> {
    this.unreadable = [];
    return this.#listing((db) => allRuns(db, true));
  }

  /** A page newest first: a range of an index, as long as the page, however many runs there are. */
  listPage(opts: RunPageOptions): Promise<RunSummary[]> {
    return this.#listing((db) => pageRuns(db, opts));
  }

  listPrefixed(prefix: string): Promise<RunSummary[]> {
    return this.#listing((db) => prefixedRuns(db, prefix));
  }

  /** A listing, once this log's own events on their way are in (a failed write is the appender's to hear). */
  async #listing(fn: (db: Sql) => Promise<RunSummary[]>): Promise<RunSummary[]> {
    await this.#queue.sendAll().catch(() => undefined);
    return this.#do('list runs', fn);
  }

  /** Sends the events still on their way; stops renewing this instance's leases (the runs stay recoverable by any instance). */
  async close(): Promise<void> {
    await this.#queue.sendAll().catch(() => undefined); // lost with the connection: progress only
    await Promise.all(this.#releasing.values());
    this.#keeper.stopAll();
  }
}
