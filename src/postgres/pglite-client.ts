import { existsSync, statSync } from 'node:fs';
import { TroupeError } from '../domain/errors.js';
import { quoted } from './pg-client.js';
import type { PgliteDatabase, PgliteModule } from './pglite-database.js';
import { lockPgliteDir } from './pglite-lock.js';
import { optionalPeer, SentStatements, type Sql, type SqlClient } from './sql.js';

/**
 * PGlite (PostgreSQL in WebAssembly, in this process) as a SqlClient: one session, so its
 * transactions run one at a time; it does not fsync, so a power loss can lose what it wrote
 * last. For tests and single-user use; a server wants PostgreSQL.
 */
export async function pgliteClient(
  target: string | PgliteDatabase,
  opts: { schema?: string; create?: boolean | undefined } = {},
): Promise<SqlClient> {
  // PGlite makes a directory it is given; opening is not creating (see PostgresStoreOptions.create).
  if (typeof target === 'string' && opts.create === false && !existsSync(target))
    throw new TroupeError(
      'NOT_A_TROUPE_DIRECTORY',
      `pglite:${target} does not exist: run \`troupe init --store pglite:…\` to create it`,
      {
        context: { dir: target },
      },
    );
  if (typeof target === 'string' && statSync(target, { throwIfNoEntry: false })?.isDirectory() === false)
    throw new TroupeError(
      'USAGE',
      `pglite:${target} is a file, not a directory: pglite:PATH names the directory of an embedded database`,
      { context: { dir: target } },
    );
  let db: PgliteDatabase;
  let unlock = () => {};
  const owned = typeof target === 'string';
  if (typeof target === 'string') {
    const mod = optionalPeer<PgliteModule>('@electric-sql/pglite', 'npm install @electric-sql/pglite');
    unlock = lockPgliteDir(target);
    try {
      db = await mod.PGlite.create(target);
    } catch (e) {
      unlock();
      throw e;
    }
  } else db = target;
  const path = `SET search_path TO ${quoted(opts.schema ?? 'public')}`;
  // One session: the search path is set in each transaction, as another store may share it.
  // Statements `fn` sent without waiting on them are answered before the transaction commits.
  const run = <T>(fn: (tx: Sql) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.query(path);
      const sent = new SentStatements();
      const out = await sent.run(
        (text, params) => (params === undefined ? tx.exec(text) : tx.query(text, params)),
        fn,
      );
      await sent.answered();
      return out;
    });
  const query: Sql['query'] = (text, params) => run((tx) => tx.query(text, params));
  const exec: Sql['exec'] = (text) => run((tx) => tx.exec(text));
  return {
    engine: 'pglite',
    pipelines: true,
    // PGlite does not fsync at all: every commit is as relaxed as it gets.
    relaxed: { query, exec },
    where: typeof target === 'string' ? `pglite:${target}` : 'pglite',
    query,
    exec,
    async transaction(fn, opts = {}) {
      return run(async (tx) => {
        if (opts.isolation !== 'read committed')
          await tx.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        return fn(tx);
      });
    },
    async listen(channel, onPayload) {
      const stop = await db.listen(channel, onPayload);
      return () => stop();
    },
    async close() {
      if (!owned) return;
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}
