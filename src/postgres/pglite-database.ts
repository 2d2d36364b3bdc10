/**
 * The little of PGlite (`@electric-sql/pglite`, an optional peer) troupe uses, named here so
 * that troupe's declarations never import the package: a user without it still type-checks.
 * A real `PGlite` is one (test/types/peer-shapes.test.ts checks it).
 */

/** A transaction of an embedded database: statements on its one session. */
export interface PgliteTransaction {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Several statements without parameters. */
  exec(text: string): Promise<unknown>;
}

/** An embedded PGlite database, as `PostgresStore.pglite` takes one the caller made. */
export interface PgliteDatabase {
  transaction<T>(fn: (tx: PgliteTransaction) => Promise<T>): Promise<T>;
  /** LISTEN on `channel`; returns the function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The package itself, as loaded when a store opens a directory. */
export interface PgliteModule {
  PGlite: { create(dir: string): Promise<PgliteDatabase> };
}
