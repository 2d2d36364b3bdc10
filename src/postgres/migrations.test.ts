import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import { faulty } from './faulty.test-helper.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { pgClient } from './pg-client.js';
import { PostgresStore } from './store.js';
import { dropSchema, freshSchema, postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const why = await postgresUnavailable();

describe.skipIf(why !== undefined)(why ? `skipped: ${why}` : 'migrations, on PostgreSQL', () => {
  const schemas: string[] = [];
  afterAll(() => Promise.all(schemas.map((s) => dropSchema(s))));
  const schema = () => {
    const s = freshSchema();
    schemas.push(s);
    return s;
  };
  const session = async () => {
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    return c;
  };

  it('instances opening a new store at once migrate it once, each step recorded once', async () => {
    const s = schema();
    const stores = await Promise.all(
      [1, 2, 3, 4].map(() => PostgresStore.connect(TEST_POSTGRES_URL, { schema: s })),
    );
    expect(stores.map((x) => x.migrated.to)).toEqual([1, 2, 3, 4].map(() => SCHEMA_VERSION));
    const { rows } = await stores[0]!.sql.query<{ version: number }>(
      'SELECT version FROM troupe_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await Promise.all(stores.map((x) => x.close()));
  });

  it('an instance paused in the middle of a migration holds up no store already up to date', async () => {
    const current = schema();
    await (await PostgresStore.connect(TEST_POSTGRES_URL, { schema: current })).close();
    // Instance A stops (a pause, a debugger) right after taking its migration's lock.
    let resume = () => {};
    const paused = new Promise<void>((r) => {
      resume = r;
    });
    let locked = () => {};
    const holding = new Promise<void>((r) => {
      locked = r;
    });
    const a = schema();
    const db = await pgClient(TEST_POSTGRES_URL, { schema: a });
    const opening = PostgresStore.over(
      faulty(db, async (text, run) => {
        const r = await run();
        if (text.includes('pg_advisory_xact_lock')) {
          locked();
          await paused;
        }
        return r;
      }),
      { schema: a },
    );
    await holding;
    try {
      const store = await PostgresStore.connect(TEST_POSTGRES_URL, { schema: current, lockWaitMs: 300 });
      expect(store.migrated).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      await store.close();
      // A new store waits for it (one lock for every version of troupe: see MIGRATION_LOCK).
      const e = await PostgresStore.connect(TEST_POSTGRES_URL, { schema: schema(), lockWaitMs: 300 }).catch(
        (x: unknown) => x,
      );
      expect(isTroupeError(e) && e.code).toBe('LOCK_FAILED');
    } finally {
      resume();
      await (await opening).close();
    }
  });

  it('a store a newer troupe migrated is refused (USAGE), and left as it is', async () => {
    const s = schema();
    await (await PostgresStore.connect(TEST_POSTGRES_URL, { schema: s })).close();
    const c = await session();
    try {
      await c.query(`INSERT INTO "${s}".troupe_migrations (version, name) VALUES ($1, 'from the future')`, [
        SCHEMA_VERSION + 1,
      ]);
      const e = await PostgresStore.connect(TEST_POSTGRES_URL, { schema: s }).catch((x: unknown) => x);
      expect(isTroupeError(e) && e.code).toBe('USAGE');
      expect((e as Error).message).toMatch(
        `has schema version ${SCHEMA_VERSION + 1}; this troupe knows up to ${SCHEMA_VERSION}: upgrade troupe`,
      );
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM "${s}".troupe_migrations`);
      expect(rows[0].n).toBe(MIGRATIONS.length + 1);
    } finally {
      await c.end();
    }
  });
});
