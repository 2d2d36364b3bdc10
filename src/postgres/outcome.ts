import { isUnreachable, type Sql } from './sql.js';

/** How long a lost COMMIT's outcome is asked after: the server may be restarting. */
const ASK_FOR_MS = 10_000;

/**
 * Whether the transaction `xid` committed, asked of the server after the connection that sent
 * its COMMIT was cut before the answer came (PostgreSQL keeps every transaction's outcome:
 * `pg_xact_status`). Asked again while it is still in progress (its session has not yet seen the
 * cut) or the server cannot be reached (a restart), for up to ASK_FOR_MS: 'unknown' if that is
 * still not known by then.
 */
export async function outcomeOf(db: Sql, xid: string): Promise<'committed' | 'aborted' | 'unknown'> {
  const until = Date.now() + ASK_FOR_MS;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      const { rows } = await db.query<{ status: string | null }>(
        'SELECT pg_xact_status($1::xid8) AS status',
        [xid],
      );
      const status = rows[0]?.status;
      if (status === 'committed') return 'committed';
      if (status !== 'in progress') return 'aborted'; // or too old to be known
    } catch (e) {
      if (!isUnreachable(e)) return 'unknown';
    }
    if (Date.now() + wait > until) return 'unknown';
    await new Promise((r) => setTimeout(r, wait));
  }
}
