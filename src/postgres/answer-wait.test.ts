import { describe, expect, it } from 'vitest';
import { calm } from '../configuration/test-setup.test-helper.js';
import { isTroupeError } from '../domain/errors.js';
import { proxiedStores } from './proxy.test-helper.js';
import { sqlState } from './sql.js';
import { PostgresStore } from './store.js';
import { freshSchema, postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const why = await postgresUnavailable();

describe.skipIf(why !== undefined)(
  why ? `skipped: ${why}` : 'a server that stops answering in the middle of a statement, on PostgreSQL',
  () => {
    // Statements may run 300 ms (a lock wait, 100 ms: never longer than a statement may run).
    const { schemas, setup: proxied } = proxiedStores();
    const setup = () => proxied({ statementWaitMs: 300, lockWaitMs: 100 });

    it('a read the server never answers fails TRANSIENT, naming the server; the store then goes on', async () => {
      const { proxy, store } = await setup();
      try {
        await store.put('roles', { id: 'r', v: 1 });
        proxy.freeze(); // every connection open now: the server stopped answering on it
        const e = await store.get('roles', 'r').catch((x: unknown) => x);
        expect(isTroupeError(e) && e.code).toBe('TRANSIENT');
        expect(String((e as Error).message)).toMatch(
          /could not reach PostgreSQL at 127\.0\.0\.1:\d+\/troupe_test to read: no answer in 0\.6 s/,
        );
        // The connection that never answered is closed, not handed out again: a new one serves.
        expect(await store.get('roles', 'r')).toMatchObject({ v: 1, revision: 1 });
      } finally {
        await store.close();
        await proxy.close();
      }
    });

    it('a change whose COMMIT is never answered is asked about: it committed, so it is reported done and stands', async () => {
      const { proxy, store, config } = await setup();
      try {
        proxy.arm('hold'); // the COMMIT reaches the server; nothing comes back on that connection
        await config.createPersonality(calm);
        expect(proxy.cuts()).toBe(1);
        expect(await store.get('personalities', 'calm')).toMatchObject({ revision: 1, name: 'Calm' });
        const runs = await store.runLog().list();
        expect(runs.map((r) => r.state)).toEqual(['completed']);
      } finally {
        await store.close();
        await proxy.close();
      }
    });

    it('the server itself ends a statement that runs past the limit (statement_timeout)', async () => {
      const schema = freshSchema();
      schemas.push(schema);
      const store = await PostgresStore.connect(TEST_POSTGRES_URL, {
        schema,
        poolSize: 1,
        statementWaitMs: 200,
        lockWaitMs: 100,
      });
      try {
        const e = await store.sql.query('SELECT pg_sleep(3)').catch((x: unknown) => x);
        expect(sqlState(e)).toBe('57014'); // canceled by the server, before the client gives up
        expect((await store.sql.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
      } finally {
        await store.close();
      }
    });
  },
);
