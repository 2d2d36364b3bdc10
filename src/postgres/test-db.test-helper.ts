import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { PostgresStore } from './store.js';

/** The PostgreSQL the tests use: `.ci/run` starts one and creates this database. */
export const TEST_POSTGRES_URL =
  process.env.TROUPE_TEST_POSTGRES ?? 'postgres://postgres:troupe@127.0.0.1:5432/troupe_test';

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can. In CI a missing server is
 * a failure, not a skip: `.ci/run` must provide it.
 */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const reason = `PostgreSQL at ${TEST_POSTGRES_URL.replace(/:[^:@/]*@/, ':***@')} is not reachable (${(e as Error).message}); run .ci/run or set TROUPE_TEST_POSTGRES`;
    if (process.env.CI === 'true') throw new Error(`CI must provide PostgreSQL: ${reason}`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server's URL with a schema of its own (`?schema=`): a store there sees only that schema. */
export const inSchema = (schema: string, server = TEST_POSTGRES_URL): string => {
  const u = new URL(server);
  u.searchParams.set('schema', schema);
  return u.toString();
};

let seq = 0;
/** A schema name no other test (or process) uses: each test gets an empty database of its own. */
export const freshSchema = () => `t_${process.pid}_${Date.now().toString(36)}_${seq++}`;

/** Drops a test's schema on the server. */
export async function dropSchema(schema: string, server = TEST_POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** One in-memory PGlite per test file (starting one takes a second); a schema per test. */
let shared: Promise<PGlite> | undefined;
export const sharedPglite = (): Promise<PGlite> => {
  shared ??= PGlite.create();
  return shared;
};

export async function pgliteStore(opts: { now?: () => number } = {}): Promise<PostgresStore> {
  return PostgresStore.pglite(await sharedPglite(), { schema: freshSchema(), ...opts });
}
