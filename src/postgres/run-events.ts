import { TroupeError } from '../domain/errors.js';
import { ENDED_STATES } from '../orchestration/events.js';
import type { RunEvent } from '../orchestration/run-log.js';
import type { Holder } from '../platform/holder.js';
import type { Sql } from './sql.js';

/**
 * A run's events in one statement, in order: the events, and the run's summary moved by the
 * last state among them (only if of the run's current epoch). A batch starting with `created`
 * first makes the run's row (or names the one a fresh claim made), in the same statement.
 */
export async function writeEvents(
  db: Sql,
  runId: string,
  events: RunEvent[],
  /** A new run's lease, written with its row (a unique id: no other claim can hold it). */
  lease?: { token: string; holder: Holder; ttlMs: number },
): Promise<void> {
  const first = events[0];
  if (!first) return;
  const lastState = events.findLast((e) => e.type === 'state');
  const at = Math.max(...events.map((e) => e.at));
  const created = first.type === 'created';
  const run = lease
    ? `INSERT INTO troupe_runs (run_id, workflow_id, created_at, updated_at, epoch, state, lease_token,
         lease_holder, lease_expires_at)
       VALUES ($1, $7, $8, $3, $2, coalesce($4::text, 'pending'), $9, $10,
         now() + $11 * interval '1 millisecond')
       ON CONFLICT (run_id) DO NOTHING RETURNING run_id`
    : created
      ? `INSERT INTO troupe_runs (run_id, workflow_id, created_at, updated_at, epoch, state)
       VALUES ($1, $7, $8, $3, $2, coalesce($4::text, 'pending'))
       ON CONFLICT (run_id) DO UPDATE SET workflow_id = EXCLUDED.workflow_id,
         created_at = EXCLUDED.created_at, updated_at = greatest(troupe_runs.updated_at, $3),
         state = CASE WHEN $2 >= troupe_runs.epoch THEN coalesce($4, troupe_runs.state) ELSE troupe_runs.state END
       RETURNING run_id`
      : // A run that ended gives its lease back in the same statement: once its end is in the
        // log, no instance takes it for held (the holder's own release follows, behind).
        `UPDATE troupe_runs SET updated_at = greatest(updated_at, $3),
         state = CASE WHEN $2 >= epoch THEN coalesce($4, state) ELSE state END,
         released = CASE WHEN $7::boolean AND $2 >= epoch THEN true ELSE released END
       WHERE run_id = $1 RETURNING run_id`;
  const { rows } = await db.query(
    `WITH run AS (${run})
     INSERT INTO troupe_run_events (run_id, epoch, event)
     SELECT run.run_id, e.epoch, e.event
     FROM run, unnest($5::int[], $6::json[]) WITH ORDINALITY AS e(epoch, event, ord)
     ORDER BY e.ord RETURNING 1`,
    [
      runId,
      lastState?.epoch ?? first.epoch ?? 0,
      at,
      lastState?.type === 'state' ? lastState.to : null,
      events.map((e) => e.epoch ?? 0),
      events.map((e) => JSON.stringify(e)),
      ...(created
        ? [first.workflowId, first.at]
        : [lastState !== undefined && ENDED_STATES.has(lastState.to)]),
      ...(created && lease ? [lease.token, JSON.stringify(lease.holder), lease.ttlMs] : []),
    ],
  );
  if (rows.length > 0) return;
  if (lease) {
    // The row is there already: this very write committed and its answer was lost (a retry),
    // or the id was not new after all.
    const { rows: had } = await db.query<{ lease_token: string | null }>(
      'SELECT lease_token FROM troupe_runs WHERE run_id = $1',
      [runId],
    );
    if (had[0]?.lease_token === lease.token) return;
    throw new TroupeError('ALREADY_EXISTS', `run "${runId}" already exists`, { context: { runId } });
  }
  throw new TroupeError('NOT_FOUND', `run "${runId}" has no record: its first event must be "created"`);
}
