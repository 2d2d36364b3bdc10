import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { calm } from '../configuration/test-setup.test-helper.js';
import { isTroupeError } from '../domain/errors.js';
import { checkSchema, pgClient, schemaOf } from './pg-client.js';
import { describeUrl } from './sql.js';
import { PostgresStore } from './store.js';
import { dropSchema, freshSchema, postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const servers = (await postgresUnavailable()) ? [] : [TEST_POSTGRES_URL];
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (isTroupeError(e) ? e.code : String(e)),
  );

describe('what a store URL may say', () => {
  it('?schema= is read from a URL the WHATWG parser refuses but libpq takes (a socket host)', () => {
    expect(schemaOf('postgres://u:p@/db?host=/run/postgresql&schema=mine')).toEqual({
      url: 'postgres://u:p@/db?host=%2Frun%2Fpostgresql',
      schema: 'mine',
    });
    expect(schemaOf('postgres://u:p@/db?schema=mine')).toEqual({ url: 'postgres://u:p@/db', schema: 'mine' });
    expect(describeUrl('postgres://u:p@/db?host=/run/postgresql')).toBe('/run/postgresql:5432/db');
  });

  it("refuses ?options= (it could send the session elsewhere), PostgreSQL's own schemas, and a bad ?connect_timeout=", async () => {
    await expect(pgClient(`${TEST_POSTGRES_URL}?options=-c%20search_path%3Dpublic`)).rejects.toThrow(
      /\?options= is not taken in a store URL/,
    );
    for (const setting of [
      'lock_timeout=0',
      'statement_timeout=0',
      'idle_in_transaction_session_timeout=0',
      'search_path=public',
    ])
      await expect(pgClient(`${TEST_POSTGRES_URL}?${setting}`), setting).rejects.toThrow(
        new RegExp(`\\?${setting.split('=')[0]}= is not taken in a store URL`),
      );
    for (const schema of ['information_schema', 'pg_catalog', 'pg_temp'])
      expect(() => checkSchema(schema), schema).toThrow(/is PostgreSQL's own/);
    await expect(pgClient(`${TEST_POSTGRES_URL}?connect_timeout=soon`)).rejects.toThrow(
      /\?connect_timeout= takes whole seconds/,
    );
  });

  it('a URL PostgreSQL cannot take, or a parameter given twice, is USAGE, never echoing a password', async () => {
    for (const url of [
      'postgres://u:hunter2secret@[::1/db',
      'postgres://u:hunter2secret@127.0.0.1:99999/db',
    ]) {
      const e = await pgClient(url).catch((x: unknown) => x);
      expect(isTroupeError(e) && e.code, url).toBe('USAGE');
      expect((e as Error).message).toMatch(/^the store URL is not a URL PostgreSQL takes/);
      expect((e as Error).message).not.toContain('hunter2secret');
    }
    await expect(pgClient(`${TEST_POSTGRES_URL}?schema=a&schema=b`)).rejects.toThrow(
      /\?schema= is given 2 times in the store URL: give it once/,
    );
  });

  it('a server that takes the connection and never answers fails the call (connect_timeout), not hangs it', async () => {
    const held = new Set<Socket>();
    const silent = createServer((s) => void held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const got = await code(
        PostgresStore.connect(`postgres://u:p@127.0.0.1:${port}/db?connect_timeout=1`, { poolSize: 1 }),
      );
      expect(got).toBe('TRANSIENT');
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe.each(servers.map((url) => [url]))('sessions on %s', (url) => {
  it('a keyword is a schema name like any other (quoted)', async () => {
    const store = await PostgresStore.connect(url, { schema: 'select', poolSize: 1 });
    try {
      await store.put('roles', { id: 'r', v: 1 });
      expect(await store.get('roles', 'r')).toMatchObject({ v: 1 });
    } finally {
      await store.close();
      const raw = new pg.Client({ connectionString: url });
      await raw.connect();
      await raw.query('DROP SCHEMA IF EXISTS "select" CASCADE');
      await raw.end();
    }
  });

  it('a wait for a free connection is not cut short by the connect timeout', async () => {
    const u = new URL(url);
    u.searchParams.set('connect_timeout', '1');
    const db = await pgClient(u.toString(), { poolSize: 1 });
    try {
      // The one connection is busy for longer than the connect timeout; the next call waits.
      const busy = db.transaction(async (tx) => tx.query('SELECT pg_sleep(1.5)'));
      const { rows } = await db.query<{ n: number }>('SELECT 1 AS n');
      expect(rows[0]?.n).toBe(1);
      await busy;
    } finally {
      await db.close();
    }
  });

  it('a change waiting on a locked row fails once, after one wait: its step does not wait again', async () => {
    const schema = freshSchema();
    const store = await PostgresStore.connect(url, { schema, poolSize: 2, lockWaitMs: 200 });
    const config = new ConfigurationService(store, { runLog: store.runLog() });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await config.createPersonality(calm);
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${schema}.troupe_documents WHERE id = 'calm' FOR UPDATE`);
      const e = await config.updatePersonality('calm', { name: 'Calmer' }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'LOCK_FAILED' });
      await holder.query('ROLLBACK');
      const [run] = (await store.runLog().list()).filter((r) => r.workflowId === 'update-personality');
      const record = await store.runLog().read(run!.runId);
      const attempts = record!.events.filter(
        (x) => x.type === 'step' && x.kind === 'attempt' && x.stepId === 'update',
      );
      expect(attempts).toHaveLength(1);
      expect(await store.get('personalities', 'calm')).toMatchObject({ name: 'Calm', revision: 1 });
    } finally {
      await holder.end();
      await store.close();
      await dropSchema(schema);
    }
  });

  it('a row another session holds locked fails the commit with LOCK_FAILED after the wait, writing nothing', async () => {
    const schema = freshSchema();
    const store = await PostgresStore.connect(url, { schema, poolSize: 2, lockWaitMs: 200 });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await store.put('roles', { id: 'r', v: 1 });
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM ${schema}.troupe_documents WHERE kind = 'roles' AND id = 'r' FOR UPDATE`,
      );
      const e = await store.put('roles', { id: 'r', v: 2 }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'LOCK_FAILED' });
      expect((e as Error).message).toMatch(/another session held what it needed locked for too long/);
      expect((e as Error).message).toMatch(/nothing was written$/);
      await holder.query('ROLLBACK');
      expect(await store.get('roles', 'r')).toMatchObject({ v: 1, revision: 1 });
    } finally {
      await holder.end();
      await store.close();
      await dropSchema(schema);
    }
  });
});
