import { createRequire } from 'node:module';
import { TroupeError } from '../domain/errors.js';

/**
 * An optional peer package (`pg`, `@electric-sql/pglite`), loaded when a database store is
 * opened; required, not imported, so the bundled CLI loads it from node_modules as it is.
 */
export function optionalPeer<T>(name: string, install: string): T {
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch (cause) {
    throw new TroupeError('USAGE', `this store needs the "${name}" package: ${install}`, { cause });
  }
}

/** One statement at a time, on whatever connection the caller holds. */
/**
 * How a statement is planned. `replan`: afresh at every call, never from a plan the connection
 * keeps (a statement on a table whose size swings, as a queue's does, from empty to a backlog:
 * a plan kept from when it was empty scans the whole backlog).
 */
export interface QueryOptions {
  replan?: boolean;
}

export interface Sql {
  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<{ rows: R[] }>;
  /** Several statements without parameters (a migration step). */
  exec(text: string): Promise<void>;
}

/**
 * The little of a PostgreSQL client the store needs, so the same SQL runs on a server (`pg`
 * pool) and embedded (PGlite). `transaction` runs `fn` on one connection in one SERIALIZABLE
 * transaction, committed if `fn` returns and rolled back if it throws (see `pipelines`).
 */
export interface SqlClient extends Sql {
  readonly engine: 'postgres' | 'pglite';
  /**
   * `transaction` sends each statement at once, in order, and commits only once every one
   * `fn` sent is answered, failing with the first that failed (see SentStatements): a caller
   * may send a statement without waiting on it, and have it answered with the next. Without
   * it, every statement is waited on before the next is sent, and COMMIT after them all.
   */
  readonly pipelines?: boolean;
  /** Where it is, for messages: host, port and database (never a password). */
  readonly where: string;
  transaction<T>(
    fn: (tx: Sql) => Promise<T>,
    opts?: { isolation?: 'serializable' | 'read committed' },
  ): Promise<T>;
  /**
   * Statements whose commit does not wait for the disk (`synchronous_commit = off`): seen by
   * everyone at once, made durable by the next synchronous commit; a crash may lose the last.
   */
  readonly relaxed: Sql;
  /**
   * LISTEN on `channel`; returns the function that stops listening. `onLost` hears that the
   * connection went away (a server restart): no notification will come any more.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onLost?: (error: unknown) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * A transaction's statements as it sends them: each goes out at once, without waiting for the
 * answers to those before it (on a pipelining connection, BEGIN goes with the first statement
 * and COMMIT right after the last, in one round trip), and the transaction commits only once
 * every one is answered. The first to fail, in the order sent, is the transaction's failure: it
 * rolled back, whether or not anyone waited on that statement's answer.
 */
export class SentStatements {
  readonly #answers: Array<Promise<unknown>> = [];

  /** `answer` is a statement just sent; returned as it is. */
  track<T>(answer: Promise<T>): Promise<T> {
    answer.catch(() => undefined); // heard by `answered` (and by its caller, if it waits on it)
    this.#answers.push(answer);
    return answer;
  }

  /** Every statement sent so far, answered; throws the first failure. */
  async answered(): Promise<void> {
    for (const a of this.#answers) await a;
  }

  /**
   * `fn` with the statements it sends over `send` tracked. If it throws, what is thrown is the
   * first statement that failed, if one did: those after it failed only because the transaction
   * was aborted by then (a write refused, then the run events sent behind it).
   */
  async run<T>(
    send: (text: string, params?: unknown[], opts?: QueryOptions) => Promise<unknown>,
    fn: (tx: Sql) => Promise<T>,
  ): Promise<T> {
    try {
      return await fn(this.sql(send));
    } catch (e) {
      await this.answered(); // throws the first that failed, if one did
      throw e;
    }
  }

  /** `send` as a transaction's Sql: each statement tracked. */
  sql(send: (text: string, params?: unknown[], opts?: QueryOptions) => Promise<unknown>): Sql {
    return {
      query: (text, params, opts) => this.track(send(text, params ?? [], opts)) as never,
      exec: async (text) => {
        await this.track(send(text));
      },
    };
  }
}

/** The SQLSTATE of a database error, if it is one. */
export const sqlState = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** Lost a race another transaction won: the commit is tried again on what is there now. */
export const isRaceLost = (e: unknown): boolean => {
  const s = sqlState(e);
  return s === '40001' || s === '40P01' || s === '23505';
};

/** How often a transaction that lost a race to another one is run again. */
export const RACE_TRIES = 12;

/**
 * Runs `fn` again (after a short random wait) each time it loses a race to another transaction
 * (see isRaceLost), up to RACE_TRIES times; anything else, and the last lost race, is thrown as
 * it is. `before` runs before each try (a check of the caller's signal).
 */
export async function retryingRaces<T>(fn: () => Promise<T>, before?: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    before?.();
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TroupeError || !isRaceLost(e) || attempt >= RACE_TRIES) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(attempt, 6)));
    }
  }
}

/** The server cannot be reached, or went away mid-call (restart, network). */
export function isUnreachable(e: unknown): boolean {
  const s = sqlState(e);
  if (s?.startsWith('08') || s === '57P01' || s === '57P02' || s === '57P03') return true;
  const code = (e as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)
  )
    return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout expired/i.test(
    String((e as Error | null)?.message ?? ''),
  );
}

/** A database failure as a TroupeError naming where, never with the connection's password. */
export function databaseError(e: unknown, where: string, doing: string): TroupeError {
  if (e instanceof TroupeError) return e;
  const detail = String((e as Error | null)?.message ?? e).replace(/postgres(ql)?:\/\/[^\s]*/gi, '<url>');
  if (sqlState(e) === '55P03')
    return new TroupeError(
      'LOCK_FAILED',
      `PostgreSQL at ${where} could not ${doing}: another session held what it needed locked for too long (${detail}); nothing was written`,
      // The wait ran its whole time already: a step's retry would only wait it again.
      { cause: e, retryable: false, context: { where, sqlState: '55P03' } },
    );
  if (isUnreachable(e))
    return new TroupeError('TRANSIENT', `could not reach PostgreSQL at ${where} to ${doing}: ${detail}`, {
      cause: e,
      context: { where, sqlState: sqlState(e) },
    });
  return new TroupeError('IO_ERROR', `PostgreSQL at ${where} failed to ${doing}: ${detail}`, {
    cause: e,
    context: { where, sqlState: sqlState(e) },
  });
}

/** `host:port/database` of a connection URL, for messages. */
export function describeUrl(url: string): string {
  try {
    // libpq's empty host (`postgres://user@/db?host=/run/postgresql`) is refused by the WHATWG
    // parser: read with a placeholder host, the real one from `?host=`.
    const u = new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=[/?#])/i, '$1localhost'));
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    return `${host}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return UNPARSABLE;
  }
}

/** What describeUrl says of a URL it cannot read. */
export const UNPARSABLE = '(unparsable URL)';
