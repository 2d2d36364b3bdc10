import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { agentInput, calm, failure, reviewer } from '../configuration/test-setup.test-helper.js';
import type { Sql, SqlClient } from './sql.js';
import { PostgresStore } from './store.js';
import { dropSchema, freshSchema, postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const why = await postgresUnavailable();

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

type Hook = (text: string) => Promise<void>;

/**
 * A SqlClient of a user's own, straight on `pg`, that does not pipeline: each statement is sent
 * when asked, after `before` (a tracer's await, say), and COMMIT once `fn` returns. `after` runs
 * once a statement is answered.
 */
function ownClient(schema: string, before?: Hook, after?: Hook): SqlClient {
  const pool = new pg.Pool({
    connectionString: TEST_POSTGRES_URL,
    options: `-c search_path=${schema}`,
    max: 4,
  });
  pool.on('error', () => {});
  const on = (q: { query: (t: string, p?: unknown[]) => Promise<unknown> }): Sql => ({
    query: (async (text: string, params?: unknown[]) => {
      await before?.(text);
      const r = await q.query(text, params);
      await after?.(text);
      return r;
    }) as never,
    exec: async (text) => {
      await q.query(text);
    },
  });
  return {
    engine: 'postgres',
    where: 'own client',
    ...on(pool),
    relaxed: on(pool),
    transaction: async (fn, opts = {}) => {
      const c = await pool.connect();
      try {
        await c.query(
          `BEGIN ISOLATION LEVEL ${opts.isolation === 'read committed' ? 'READ COMMITTED' : 'SERIALIZABLE'}`,
        );
        const out = await fn(on(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    listen: async () => async () => {},
    close: () => pool.end(),
  };
}

async function open(schema: string, before?: Hook, after?: Hook) {
  const s = await PostgresStore.over(ownClient(schema, before, after), { schema });
  cleanup.push(() => s.close());
  return s;
}

const request = (id: string) => ({
  agent: agentInput(id, { personalityId: `${id}-p`, roleId: `${id}-r` }),
  personality: { ...calm, id: `${id}-p` },
  role: { ...reviewer, id: `${id}-r` },
});

/**
 * Another instance creates agent `x` at `when` (once) in a create-agent of `x` over a client that
 * does not pipeline: the create must lose its race, all of it, and the other's agent stand.
 */
async function raced(when: 'before the write is sent' | 'once the locking read is answered') {
  const schema = freshSchema();
  cleanup.push(() => dropSchema(schema));
  const other = await open(schema);
  let done = false;
  const race: Hook = async (text) => {
    if (done) return;
    const hit =
      when === 'before the write is sent'
        ? text.includes('INSERT INTO troupe_history')
        : text.includes('pg_current_xact_id');
    if (!hit) return;
    done = true;
    await other.commit([{ op: 'put', kind: 'agents', doc: { id: 'x', name: 'First' }, create: true }]);
  };
  const store =
    when === 'before the write is sent' ? await open(schema, race) : await open(schema, undefined, race);
  const config = new ConfigurationService(store, { runLog: store.runLog() });
  const e = await failure(config.createAgent(request('x')));
  expect(done).toBe(true);
  expect(e.code).toBe('ALREADY_EXISTS');
  expect(await other.get('agents', 'x')).toMatchObject({ name: 'First', revision: 1 });
  for (const [kind, id] of [
    ['resolved', 'x'],
    ['personalities', 'x-p'],
    ['roles', 'x-r'],
  ] as const)
    expect(await other.get(kind, id), `${kind}/${id}`).toBeUndefined();
}

describe.skipIf(why !== undefined)(
  why ? `skipped: ${why}` : 'a SqlClient of your own that does not pipeline',
  () => {
    it('a statement it sends late still goes before COMMIT: a create that lost its race writes nothing', () =>
      raced('before the write is sent'));

    it("a write refused behind the run events sent after it: the commit fails with the write's own error, and is tried again", () =>
      raced('once the locking read is answered'));
  },
);
