import { TroupeError } from '../domain/errors.js';
import { ENDED_STATES } from '../orchestration/events.js';
import type { RunEvent } from '../orchestration/run-log.js';
import type { Holder } from '../platform/holder.js';
import type { Sql } from './sql.js';

/**
 * A run's events in one statement, in order: the events, and the run's summary moved by the
 * last state among them (only if of the run's current epoch). A batch starting with `created`
 * first makes the run's row (or names the one a fresh claim made), in the same statement. Each
 * event is added once: one whose key the run's log holds already (a write sent again after its
 * answer was lost, though it committed) is left out.
 */
export async function writeEvents(
  db: Sql,
  runId: string,
  events: RunEvent[],
  /** Each event's key (see PostgresRunLog): an event already in the log is not added again. */
  keys: string[],
  /** A new run's lease, written with its row (a unique id: no other claim can hold it). */
  lease?: { token: string; holder: Holder; ttlMs: number },
): Promise<void> {
  const first = events[0];
  if (!first) return;
  const lastState = events.findLast((e) => e.type === 'state');
  const at = events.reduce((m, e) => Math.max(m, e.at), Number.NEGATIVE_INFINITY);
  const created = first.type === 'created';
  // A run that ended gives its lease back in the same statement ($8): once its end is in the
  // log, no instance takes it for held, and its holder has nothing more to send.
  const moved = `updated_at = greatest(troupe_runs.updated_at, $3),
         state = CASE WHEN $2 >= troupe_runs.epoch THEN coalesce($4, troupe_runs.state) ELSE troupe_runs.state END,
         released = CASE WHEN $8::boolean AND $2 >= troupe_runs.epoch THEN true ELSE troupe_runs.released END`;
  const run = lease
    ? // Its row there already under this very lease: this write was sent before and committed
      // (its answer lost); what it adds beyond that goes in, the rest is there.
      `INSERT INTO troupe_runs (run_id, workflow_id, created_at, updated_at, epoch, state, released,
         lease_token, lease_holder, lease_expires_at)
       VALUES ($1, $9, $10, $3, $2, coalesce($4::text, 'pending'), $8, $11, $12,
         now() + $13 * interval '1 millisecond')
       ON CONFLICT (run_id) DO UPDATE SET ${moved}
       WHERE troupe_runs.lease_token = EXCLUDED.lease_token
       RETURNING run_id`
    : created
      ? `INSERT INTO troupe_runs (run_id, workflow_id, created_at, updated_at, epoch, state, released)
       VALUES ($1, $9, $10, $3, $2, coalesce($4::text, 'pending'), $8)
       ON CONFLICT (run_id) DO UPDATE SET workflow_id = EXCLUDED.workflow_id,
         created_at = EXCLUDED.created_at, ${moved}
       RETURNING run_id`
      : `UPDATE troupe_runs SET ${moved} WHERE run_id = $1 RETURNING run_id`;
  const { rows } = await db.query(
    `WITH run AS (${run}),
     added AS (INSERT INTO troupe_run_events (run_id, epoch, event, event_key)
       SELECT run.run_id, m.epoch, j.event, m.key
       FROM run, unnest($5::int[], $7::text[]) WITH ORDINALITY AS m(epoch, key, ord)
       JOIN json_array_elements($6::json) WITH ORDINALITY AS j(event, ord) ON j.ord = m.ord
       ORDER BY m.ord
       ON CONFLICT (run_id, event_key) DO NOTHING RETURNING 1)
     SELECT 1 FROM run`,
    [
      runId,
      lastState?.epoch ?? first.epoch ?? 0,
      at,
      lastState?.type === 'state' ? lastState.to : null,
      events.map((e) => e.epoch ?? 0),
      // The events in one JSON array text, each element taken whole (see docsJson).
      JSON.stringify(events),
      keys,
      lastState !== undefined && ENDED_STATES.has(lastState.to),
      ...(created ? [first.workflowId, first.at] : []),
      ...(created && lease ? [lease.token, JSON.stringify(lease.holder), lease.ttlMs] : []),
    ],
  );
  if (rows.length > 0) return;
  if (lease) throw new TroupeError('ALREADY_EXISTS', `run "${runId}" already exists`, { context: { runId } });
  throw new TroupeError('NOT_FOUND', `run "${runId}" has no record: its first event must be "created"`);
}
