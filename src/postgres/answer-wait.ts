import { isUnreachable } from './sql.js';

/**
 * A statement as `pg` takes one; one with a name is parsed and planned once per connection
 * (see `prepared`).
 */
export interface Statement {
  name?: string;
  text: string;
  values: unknown[];
}

/**
 * The little of a pooled `pg` connection (a `PoolClient`) these helpers use, named here so that
 * troupe's declarations never import `pg`'s types (an optional peer's, in a package of their own).
 */
export interface PooledConnection {
  query(q: Statement | string): Promise<unknown>;
  on(event: 'error', listener: (e: Error) => void): unknown;
  off(event: 'error', listener: (e: Error) => void): unknown;
  /** Gives the connection back to its pool; with an error (or true), closes it instead. */
  release(err?: Error | boolean): void;
}

/** A pool of such connections (a `pg` Pool). */
export interface ConnectionPool {
  connect(): Promise<PooledConnection>;
}

/** A statement the server did not answer in time: its connection was closed. */
export class NoAnswer extends Error {
  /** As a socket's timeout: the server is out of reach (see isUnreachable). */
  readonly code = 'ETIMEDOUT';
  constructor(waitedMs: number) {
    super(
      `no answer in ${waitedMs / 1000} s (the server stopped, or the network dropped it): the connection was closed`,
    );
    this.name = 'NoAnswer';
  }
}

/**
 * Runs `q` on `client`; with no answer after `ms`, closes the connection (and with it the
 * statement's transaction and locks, on the server's side) and fails with NoAnswer.
 */
export async function answered<R>(
  client: PooledConnection,
  q: Statement | string,
  ms: number,
): Promise<{ rows: R[] }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new NoAnswer(ms));
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }, ms);
  });
  const asked = client.query(q) as Promise<{ rows: R[] }>;
  asked.catch(() => undefined); // after a NoAnswer, its own failure goes unheard
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn` on a connection of `pool`, given back when it ends; one whose connection broke (the
 * server went away, or never answered; or `fn` says so through `broke`) is closed, never
 * handed out again.
 */
export async function onConnection<T>(
  pool: ConnectionPool,
  fn: (client: PooledConnection, broke: (e: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // A server going away mid-statement fails it; the client also emits the error, and an
  // unheard 'error' would end the process.
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken ??= e;
  };
  client.on('error', onError);
  try {
    return await fn(client, onError);
  } catch (e) {
    if (e instanceof Error && isUnreachable(e)) broken ??= e;
    throw e;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
