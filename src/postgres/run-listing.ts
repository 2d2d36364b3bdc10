import { DONE_STATES } from '../orchestration/events.js';
import type { RunSummary } from '../orchestration/run-log.js';
import { pageSize, type RunPageOptions, type RunPosition } from '../orchestration/run-pages.js';
import type { Sql } from './sql.js';

type SummaryRow = {
  run_id: string;
  workflow_id: string;
  state: RunSummary['state'];
  created_at: string | number;
  updated_at: string | number;
};

const COLUMNS = 'run_id, workflow_id, state, created_at, updated_at';

/** A run's row before its `created` event is written (a claim's) is no run yet: no listing has it. */
const RECORDED = `workflow_id <> ''`;

const UNFINISHED = `state NOT IN (${[...DONE_STATES].map((s) => `'${s}'`).join(', ')})`;

const summary = (r: SummaryRow): RunSummary => ({
  runId: r.run_id,
  workflowId: r.workflow_id,
  state: r.state,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

async function summaries(db: Sql, text: string, params: unknown[] = []): Promise<RunSummary[]> {
  return (await db.query<SummaryRow>(text, params)).rows.map(summary);
}

/** Every run (`unfinished`: only those that may still change), oldest first. */
export const allRuns = (db: Sql, unfinished = false): Promise<RunSummary[]> =>
  summaries(
    db,
    `SELECT ${COLUMNS} FROM troupe_runs WHERE ${RECORDED} ${unfinished ? `AND ${UNFINISHED}` : ''}
     ORDER BY created_at, run_id`,
  );

/** created_at is a bigint: the limits of its range, as numbers. */
const BIGINT_MAX = 2 ** 63;
const BIGINT_MIN = -(2 ** 63);

/**
 * The cursor as a position of the same rows in bigint terms: what comes after a fractional
 * createdAt is what comes after (its ceiling, "") (no id is less than ""). `all`: every run
 * comes after it; `none`: none does.
 */
function keyOf(after: RunPosition): { createdAt: string; runId: string } | 'all' | 'none' {
  const at = after.createdAt;
  if (Number.isNaN(at) || at < BIGINT_MIN) return 'none';
  if (at >= BIGINT_MAX) return 'all';
  return Number.isInteger(at)
    ? { createdAt: BigInt(at).toString(), runId: after.runId }
    : { createdAt: BigInt(Math.ceil(at)).toString(), runId: '' };
}

/**
 * A page of runs newest first after a cursor (see pageOfRuns): one range of troupe_runs_newest
 * (created_at, then run_id in the C collation: code-unit order, as the API pages them), read
 * as far as the page goes, whatever the number of runs.
 */
export async function pageRuns(db: Sql, opts: RunPageOptions): Promise<RunSummary[]> {
  const limit = pageSize(opts.limit);
  const key = opts.after ? keyOf(opts.after) : 'all';
  if (limit === 0 || key === 'none') return [];
  const order = 'ORDER BY created_at DESC, run_id COLLATE "C" DESC LIMIT $1';
  // A page past any whole number of runs has them all (LIMIT NULL).
  const rows = Number.isSafeInteger(limit) ? limit : null;
  return key === 'all'
    ? summaries(db, `SELECT ${COLUMNS} FROM troupe_runs WHERE ${RECORDED} ${order}`, [rows])
    : summaries(
        db,
        `SELECT ${COLUMNS} FROM troupe_runs
         WHERE ${RECORDED} AND (created_at, run_id COLLATE "C") < ($2::bigint, $3::text) ${order}`,
        [rows, key.createdAt, key.runId],
      );
}

/**
 * The least string after every string that starts with `prefix` in code-point order (the C
 * collation's, in UTF-8): its last code point one up (past the surrogates); undefined when
 * there is none (every code point is the greatest).
 */
export function pastPrefix(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last < 0x10ffff) return String.fromCodePoint(...points, last === 0xd7ff ? 0xe000 : last + 1);
  }
  return undefined;
}

/**
 * The runs whose id starts with `prefix`, oldest first as `allRuns` has them: a range of
 * troupe_runs_id_prefix from the prefix to what follows every id that has it.
 */
export async function prefixedRuns(db: Sql, prefix: string): Promise<RunSummary[]> {
  if (prefix === '') return allRuns(db);
  if (prefix.includes('\u0000')) return []; // no text in PostgreSQL holds one
  const past = pastPrefix(prefix);
  return summaries(
    db,
    `SELECT ${COLUMNS} FROM troupe_runs
     WHERE ${RECORDED} AND run_id COLLATE "C" >= $1 ${past === undefined ? '' : 'AND run_id COLLATE "C" < $2'}
       AND starts_with(run_id, $1)
     ORDER BY created_at, run_id`,
    past === undefined ? [prefix] : [prefix, past],
  );
}
