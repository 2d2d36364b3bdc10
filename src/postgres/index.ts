/** `troupe/postgres`: the Store over PostgreSQL 15+ (and PGlite, embedded). */
export { MIGRATIONS, migrate, SCHEMA_VERSION } from './migrations.js';
export type { PgliteDatabase, PgliteTransaction } from './pglite-database.js';
export { PostgresRunLog } from './run-log.js';
export { PostgresRunQueue, type QueueRunner, type WorkOptions } from './run-queue.js';
export type { Sql, SqlClient } from './sql.js';
export { PostgresStore, type PostgresStoreOptions } from './store.js';
