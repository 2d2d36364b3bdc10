import { SentStatements, type Sql, type SqlClient } from './sql.js';

/** Sees each statement (its text and parameters) and runs it, or fails it, or loses its answer. */
export type Hook = (
  text: string,
  run: () => Promise<{ rows: unknown[] }>,
  params?: unknown[],
) => Promise<{ rows: unknown[] }>;

/**
 * `db` with every statement passed through `hook` (to fail one, or lose its answer), a
 * transaction's COMMIT included (as the text `COMMIT`), and `afterTransaction` told of each
 * transaction that committed.
 */
export function faulty(db: SqlClient, hook: Hook, afterTransaction?: () => void): SqlClient {
  const via = (s: Sql): Sql => ({
    query: (text, params, opts) => hook(text, () => s.query(text, params, opts), params) as never,
    exec: (text) => s.exec(text),
  });
  return {
    engine: db.engine,
    // Each statement `fn` sent is answered before the COMMIT goes (below), whatever `db` does.
    pipelines: true,
    where: db.where,
    ...via(db),
    relaxed: via(db.relaxed),
    transaction: async (fn, opts) => {
      const out = await db.transaction(async (tx) => {
        // A statement `fn` sends without waiting on it reaches `tx` only once `hook` runs it:
        // each is answered (and heard) before the COMMIT goes, as a transaction's are.
        const sent = new SentStatements();
        const result = await fn(sent.sql((text, params, opts) => via(tx).query(text, params, opts)));
        await sent.answered();
        // The COMMIT, as `hook` sees it: failing it rolls the transaction back.
        await hook('COMMIT', async () => ({ rows: [] }));
        return result;
      }, opts);
      afterTransaction?.();
      return out;
    },
    listen: (c, p, l) => db.listen(c, p, l),
    close: () => db.close(),
  };
}
