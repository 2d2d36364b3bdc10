import { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ConnectionPool, PooledConnection } from '../../src/postgres/answer-wait.js';
import { type PgliteDatabase, PostgresStore } from '../../src/postgres/index.js';
import type { PgliteModule } from '../../src/postgres/pglite-database.js';

/**
 * troupe names the little of its optional peers it uses in types of its own, so its
 * declarations import neither package. The checks below are type-level (`npm test` type-checks
 * this file): the real packages must still fit those types.
 */
describe("troupe's own types for what it uses of pg and PGlite", () => {
  it('are met by the real PGlite, its package, and pg’s pool and pooled connection', () => {
    expectTypeOf<PGlite>().toExtend<PgliteDatabase>();
    expectTypeOf<typeof import('@electric-sql/pglite')>().toExtend<PgliteModule>();
    expectTypeOf<PoolClient>().toExtend<PooledConnection>();
    expectTypeOf<Pool>().toExtend<ConnectionPool>();
    expectTypeOf<Pool>().not.toExtend<PgliteDatabase>();
    expectTypeOf(PostgresStore.pglite).parameter(0).toEqualTypeOf<string | PgliteDatabase>();
  });

  it('PostgresStore.pglite takes a PGlite the caller made, and leaves it open on close', async () => {
    const db = await PGlite.create();
    try {
      const store = await PostgresStore.pglite(db, { schema: 'peer_shapes' });
      await store.put('roles', { id: 'r', v: 1 });
      expect(await store.get('roles', 'r')).toMatchObject({ v: 1, revision: 1 });
      await store.close();
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});
