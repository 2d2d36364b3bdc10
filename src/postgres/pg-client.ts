import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { TroupeError } from '../domain/errors.js';
import { answered, onConnection, type PooledConnection, type Statement } from './answer-wait.js';
import {
  describeUrl,
  optionalPeer,
  type QueryOptions,
  SentStatements,
  type Sql,
  type SqlClient,
  UNPARSABLE,
} from './sql.js';

export interface PgClientOptions {
  /** Connections in the pool; default 10. */
  poolSize?: number;
  /** The schema the tables live in (created if missing); default `public`. */
  schema?: string;
  /**
   * Name statements so that each connection parses and plans one once (default true). False
   * behind a pooler that hands one server connection to many clients and does not track
   * named statements (PgBouncer in transaction mode without `max_prepared_statements`); the
   * URL's `?prepare=false` does the same.
   */
  prepare?: boolean;
  /**
   * How long a statement waits for a row or lock another session holds before it fails with
   * LOCK_FAILED, writing nothing (PostgreSQL only); default 15 000 ms, as the file store waits.
   */
  lockWaitMs?: number;
  /**
   * How long a statement may run; default 60 000 ms. The server cancels one still running
   * after this long (`statement_timeout`: IO_ERROR, nothing written). A server that has not
   * answered a little after that (stopped, or cut off by the network) is taken as gone: the
   * connection is closed and the call fails TRANSIENT, as for a server out of reach. A commit
   * whose COMMIT goes unanswered is then asked about, as when its answer is lost.
   */
  statementWaitMs?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a schema name: it goes into SQL as an identifier (always quoted: see `quoted`), so only
 * plain names are allowed, and none of PostgreSQL's own schemas.
 */
export function checkSchema(schema: string): string {
  if (!SCHEMA.test(schema))
    throw new TroupeError(
      'USAGE',
      `schema "${schema}" must be 1–63 of a-z 0-9 _ (not starting with a digit)`,
      {
        context: { schema },
      },
    );
  if (schema === 'information_schema' || schema.startsWith('pg_'))
    throw new TroupeError(
      'USAGE',
      `schema "${schema}" is PostgreSQL's own: pick another name for the store`,
      {
        context: { schema },
      },
    );
  return schema;
}

/** A checked schema name as an SQL identifier: quoted, so a keyword (`select`, `user`) is a name too. */
export const quoted = (schema: string) => `"${checkSchema(schema)}"`;

/**
 * A URL's parameter `name` (troupe's, not a setting to send to the server), and the URL without
 * it. Read from the query string itself, so a URL the WHATWG parser refuses but libpq takes
 * (`postgres://user@/db?host=/run/postgresql`, a socket) keeps none of troupe's parameters.
 */
function takeParam(url: string, name: string): { url: string; value?: string } {
  const at = url.indexOf('?');
  if (at < 0) return { url };
  const [base, rest] = [url.slice(0, at), url.slice(at + 1)];
  const hash = rest.indexOf('#');
  const params = new URLSearchParams(hash < 0 ? rest : rest.slice(0, hash));
  const values = params.getAll(name);
  if (values.length > 1)
    throw new TroupeError(
      'USAGE',
      `?${name}= is given ${values.length} times in the store URL: give it once`,
      {
        context: { [name]: values },
      },
    );
  const value = values[0];
  if (value === undefined) return { url };
  params.delete(name);
  const query = params.toString();
  return { url: `${base}${query ? `?${query}` : ''}${hash < 0 ? '' : rest.slice(hash)}`, value };
}

/**
 * Refuses session settings in a URL (`options`, `search_path`, the lock and idle limits): troupe
 * sets them itself, and one given there would quietly send reads and writes elsewhere, or
 * lift a limit.
 */
function refuseSessionSettings(url: string): void {
  for (const name of SESSION_SETTINGS)
    if (takeParam(url, name).value !== undefined)
      throw new TroupeError(
        'USAGE',
        `?${name}= is not taken in a store URL: troupe sets the session itself (pick the schema with ?schema=${name === 'lock_timeout' ? ", the lock wait with the library's lockWaitMs" : ''})`,
      );
}

/** Settings troupe gives each session, which a URL would otherwise override. */
const SESSION_SETTINGS = [
  'options',
  'search_path',
  'lock_timeout',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
];

/** A connection URL without its `schema` parameter, and that parameter. */
export function schemaOf(url: string): { url: string; schema?: string } {
  const { url: rest, value } = takeParam(url, 'schema');
  return value === undefined ? { url: rest } : { url: rest, schema: value };
}

/** A URL's `prepare` parameter (`?prepare=false` turns named statements off, for the CLI), and the URL without it. */
export function prepareOf(url: string): { url: string; prepare?: boolean } {
  const { url: rest, value } = takeParam(url, 'prepare');
  if (value === undefined) return { url: rest };
  if (value !== 'true' && value !== 'false')
    throw new TroupeError('USAGE', `?prepare= takes true or false, not "${value}"`, {
      context: { prepare: value },
    });
  return { url: rest, prepare: value === 'true' };
}

/** How long a statement waits for a lock another session holds, by default. */
const LOCK_WAIT_MS = 15_000;
/** How long a statement may run, by default. */
const STATEMENT_WAIT_MS = 60_000;
/** How much longer than that the client waits for an answer before it takes the server as gone. */
const answerGrace = (statementMs: number) => Math.min(5_000, statementMs);

/** How long a session may sit idle inside a transaction before the server ends it. */
const IDLE_IN_TRANSACTION = '60s';

/**
 * A URL's `connect_timeout` (seconds, as libpq reads it; default 10), and the URL without it:
 * a server that takes the connection but never answers fails the call instead of hanging it.
 */
function connectTimeoutOf(url: string): { url: string; connectMs: number } {
  const { url: rest, value } = takeParam(url, 'connect_timeout');
  if (value === undefined) return { url: rest, connectMs: 10_000 };
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 3600)
    throw new TroupeError('USAGE', `?connect_timeout= takes whole seconds from 1 to 3600, not "${value}"`, {
      context: { connect_timeout: value },
    });
  return { url: rest, connectMs: seconds * 1000 };
}

/** Names given to statements, by text (bounded: a statement past the bound goes unnamed). */
const names = new Map<string, string>();
const MAX_NAMED = 500;

/**
 * A statement with parameters, named by its text: each connection parses and plans it once,
 * then only binds and runs it (the server keeps it), instead of parsing it on every call. The
 * name is a digest of the text, so it means that text and no other in every process and
 * every version of troupe (a server connection a pooler hands from one to another included).
 */
export function prepared(text: string, params: readonly unknown[] | undefined, named = true): Statement {
  const values = (params ?? []) as unknown[];
  if (!values.length || !named) return { text, values };
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `troupe_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name === undefined ? { text, values } : { name, text, values };
}

/** A `pg` pool as a SqlClient (pg is an optional peer dependency, loaded only here). */
export async function pgClient(url: string, opts: PgClientOptions = {}): Promise<SqlClient> {
  if (describeUrl(url) === UNPARSABLE)
    // Said without the URL itself: it may hold a password.
    throw new TroupeError(
      'USAGE',
      // (Its form is said in words: one written out would look like a credential in a URL and be
      // redacted.)
      'the store URL is not a URL PostgreSQL takes: postgres://USER@HOST:PORT/DATABASE, with USER:PASSWORD@ for a password (a port from 1 to 65535)',
    );
  const pg = optionalPeer<typeof import('pg')>('pg', 'npm install pg');
  // `?schema=NAME` in the URL picks the schema (several casts in one database).
  const { url: plain, schema: named } = schemaOf(url);
  const { url: bare, prepare: inUrl } = prepareOf(plain);
  refuseSessionSettings(bare);
  url = bare;
  const schema = quoted(opts.schema ?? named ?? 'public');
  const { url: rest, connectMs } = connectTimeoutOf(url);
  url = rest;
  // Tables are found in the store's schema first. No wait is endless: a row or lock another
  // session holds fails the statement after lockWaitMs (LOCK_FAILED, as on the file store), and
  // a session left idle inside its transaction (a paused instance) is ended by the server, so
  // its locks go with it.
  const lockMs = Math.max(1, Math.round(opts.lockWaitMs ?? LOCK_WAIT_MS));
  // Never shorter than a lock wait: a wait that runs out is LOCK_FAILED, not a statement cut short.
  const statementMs = Math.max(Math.round(opts.statementWaitMs ?? STATEMENT_WAIT_MS), lockMs + 100);
  const session = `-c search_path=${schema} -c lock_timeout=${lockMs} -c statement_timeout=${statementMs} -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION}`;
  // The connect timeout is each connection's own: set on the pool, it would also end a wait
  // for a free connection (busy while another session holds a lock this one waits for).
  const Client = class extends pg.Client {
    constructor(config?: import('pg').ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectMs });
      // A connection the server ends (pg_terminate_backend, a failover) emits 'error', maybe
      // more than once and between the pool's listener and ours: one always heard here, so it
      // never ends the process. Who uses the connection hears it too (see onConnection).
      this.on('error', () => {});
    }
  };
  const pool: Pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // A statement goes out without waiting for the answer to the one before it (a transaction's
    // BEGIN with its first statement, its COMMIT with its last writes): one round trip, not one each.
    pipeline: true,
    options: session,
    Client,
  });
  // Commits that need not wait for the disk (run-log progress), on connections of their own.
  const relaxedPool: Pool = new pg.Pool({
    connectionString: url,
    max: 2,
    options: `${session} -c synchronous_commit=off`,
    Client,
  });
  // An idle connection the server dropped (a restart) is replaced on next use, not a crash.
  pool.on('error', () => {});
  relaxedPool.on('error', () => {});
  const where = describeUrl(url);
  const prepare = opts.prepare ?? inUrl ?? true;
  const listeners = new Set<PoolClient>();
  const wait = statementMs + answerGrace(statementMs);
  const ask = (c: PooledConnection, text: string, params?: unknown[], opts?: QueryOptions) =>
    answered(c, params === undefined ? text : prepared(text, params, prepare && !opts?.replan), wait);
  const over = (p: Pool): Sql => ({
    query: (text, params, opts) => onConnection(p, (c) => ask(c, text, params ?? [], opts)) as never,
    exec: async (text) => {
      await onConnection(p, (c) => ask(c, text));
    },
  });
  return {
    engine: 'postgres',
    pipelines: true,
    where,
    ...over(pool),
    relaxed: over(relaxedPool),
    transaction: (fn, opts = {}) =>
      onConnection(pool, async (client, broke) => {
        // Pipelined (see SentStatements): BEGIN goes out with the first statement, and COMMIT
        // right after the last one `fn` sends, answered or not.
        const sent = new SentStatements();
        sent.track(
          ask(
            client,
            `BEGIN ISOLATION LEVEL ${opts.isolation === 'read committed' ? 'READ COMMITTED' : 'SERIALIZABLE'}`,
          ),
        );
        try {
          const out = await sent.run((text, params, opts) => ask(client, text, params, opts), fn);
          const commit = sent.track(ask(client, 'COMMIT'));
          await sent.answered();
          // A COMMIT after a statement that failed answers ROLLBACK; `answered` threw that
          // failure already, and this holds even so.
          if (((await commit) as { command?: string }).command === 'ROLLBACK')
            throw new Error('the transaction was rolled back at COMMIT');
          return out;
        } catch (e) {
          // A connection that cannot roll back is gone, and its transaction with it: closed, not
          // reused. (Where COMMIT went out already, it rolled back; this ROLLBACK is a no-op.)
          await ask(client, 'ROLLBACK').catch(broke);
          throw e;
        }
      }),
    async listen(channel, onPayload, onLost) {
      const client = await pool.connect();
      let lost: unknown;
      let stopped = false;
      const gone = (e: unknown) => {
        lost ??= e ?? new Error('connection ended');
        if (!stopped) onLost?.(lost);
      };
      const ended = () => gone(undefined);
      const heard = (n: { channel: string; payload?: string | undefined }) => {
        if (n.channel === channel && !stopped) onPayload(n.payload ?? '');
      };
      client.on('error', gone).on('end', ended).on('notification', heard);
      // Handed back to the pool without them: a connection listened on again gathers none.
      const detach = () => {
        stopped = true;
        client.off('error', gone).off('end', ended).off('notification', heard);
        listeners.delete(client);
      };
      listeners.add(client);
      try {
        await answered(client, `LISTEN ${channel}`, wait);
      } catch (e) {
        detach();
        client.release(e instanceof Error ? e : true);
        throw e;
      }
      return async () => {
        if (stopped) return;
        stopped = true; // nothing more is heard, a loss included: the caller is done with it
        if (lost === undefined)
          await answered(client, `UNLISTEN ${channel}`, wait).catch((e: unknown) => gone(e));
        detach();
        client.release(lost === undefined ? undefined : true);
      };
    },
    async close() {
      for (const c of listeners) c.release();
      listeners.clear();
      await Promise.all([pool.end(), relaxedPool.end()]);
    },
  };
}
