import { TroupeError } from '../domain/errors.js';
import { quoted } from './pg-client.js';
import { databaseError, type SqlClient } from './sql.js';

/**
 * The schema, as numbered steps. A step is never edited once released: a change is a new step.
 * Each runs in the transaction that records it, under an advisory lock, so instances starting
 * together migrate once and never half.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'documents, history',
    sql: `
      CREATE TABLE troupe_documents (
        kind text NOT NULL,
        id text NOT NULL,
        revision integer NOT NULL CHECK (revision > 0),
        doc json NOT NULL,
        PRIMARY KEY (kind, id)
      );
      -- Every version written, and every delete: the backups a three-way merge reads, and the change feed.
      CREATE TABLE troupe_history (
        seq bigserial PRIMARY KEY,
        kind text NOT NULL,
        id text NOT NULL,
        revision integer NOT NULL,
        op text NOT NULL CHECK (op IN ('put', 'delete')),
        doc json NOT NULL,
        commit_id text,
        written_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX troupe_history_key ON troupe_history (kind, id, revision);
    `,
  },
  {
    version: 2,
    name: 'runs, run events, leases',
    sql: `
      -- One row per run: its summary, and its lease (epoch, holder, expiry on the database's clock).
      CREATE TABLE troupe_runs (
        run_id text PRIMARY KEY,
        workflow_id text NOT NULL DEFAULT '',
        state text NOT NULL DEFAULT 'pending',
        created_at bigint NOT NULL DEFAULT 0,
        updated_at bigint NOT NULL DEFAULT 0,
        epoch integer NOT NULL DEFAULT 0,
        lease_token text,
        lease_holder json,
        lease_expires_at timestamptz,
        released boolean NOT NULL DEFAULT false
      );
      CREATE INDEX troupe_runs_unfinished ON troupe_runs (state)
        WHERE state NOT IN ('completed', 'failed', 'compensated');
      CREATE TABLE troupe_run_events (
        run_id text NOT NULL REFERENCES troupe_runs (run_id) ON DELETE CASCADE,
        seq bigserial,
        epoch integer NOT NULL,
        event json NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
    `,
  },
  {
    version: 3,
    name: 'change feed compaction mark',
    sql: `
      -- History rows up to this position may be gone: a watch from before it must list again.
      CREATE TABLE troupe_feed (id boolean PRIMARY KEY DEFAULT true CHECK (id), compacted_through bigint NOT NULL DEFAULT 0);
      INSERT INTO troupe_feed DEFAULT VALUES;
    `,
  },
  {
    version: 4,
    name: 'run queue',
    sql: `
      -- Runs waiting for an instance: taken (FOR UPDATE SKIP LOCKED) until taken_until, gone once run.
      CREATE TABLE troupe_run_queue (
        run_id text PRIMARY KEY,
        workflow_id text NOT NULL,
        definition json NOT NULL,
        input json NOT NULL,
        enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        taken_until timestamptz
      );
      CREATE INDEX troupe_run_queue_order ON troupe_run_queue (enqueued_at, run_id);
    `,
  },
  {
    version: 5,
    name: 'run events written once',
    sql: `
      -- Each event's key, drawn by the log that queued it: a write sent again (its answer was
      -- lost, though it committed) adds none of its events a second time.
      ALTER TABLE troupe_run_events ADD COLUMN event_key text;
      CREATE UNIQUE INDEX troupe_run_events_key ON troupe_run_events (run_id, event_key);
    `,
  },
  {
    version: 6,
    name: 'agents by what they use',
    sql: `
      -- The agents of a personality, a role or a model, for the guards of updates and deletes
      -- (the expressions are the ones document-queries.ts writes). A document the server cannot
      -- take apart (an escaped NUL, half a surrogate pair: json keeps them, ->> refuses them) is left
      -- out of them, and found by the last index instead.
      CREATE INDEX troupe_agents_by_personality ON troupe_documents ((CASE WHEN doc::text ~ '\\\\u(0000|[dD][89a-fA-F])' THEN NULL ELSE doc->>'personalityId' END)) WHERE kind = 'agents';
      CREATE INDEX troupe_agents_by_role ON troupe_documents ((CASE WHEN doc::text ~ '\\\\u(0000|[dD][89a-fA-F])' THEN NULL ELSE doc->>'roleId' END)) WHERE kind = 'agents';
      CREATE INDEX troupe_agents_by_model ON troupe_documents ((CASE WHEN doc::text ~ '\\\\u(0000|[dD][89a-fA-F])' THEN NULL ELSE doc #>> '{model,modelId}' END)) WHERE kind = 'agents';
      CREATE INDEX troupe_agents_undecodable ON troupe_documents (id) WHERE kind = 'agents' AND doc::text ~ '\\\\u(0000|[dD][89a-fA-F])';
    `,
  },
  {
    version: 7,
    name: 'run pages, run id prefixes, compaction since the last',
    sql: `
      -- A page of runs newest first (created_at, then run_id in code-unit order, as the API
      -- pages them), after a cursor, is a range of this index, whatever the number of runs.
      CREATE INDEX troupe_runs_newest ON troupe_runs (created_at DESC, run_id COLLATE "C" DESC)
        WHERE workflow_id <> '';
      -- The runs whose id starts with a prefix (troupe workflow show 3f2a): a range of this one.
      CREATE INDEX troupe_runs_id_prefix ON troupe_runs (run_id COLLATE "C") WHERE workflow_id <> '';
      -- A document's history rows in order: whether a row has a later one is one index probe.
      CREATE INDEX troupe_history_key_seq ON troupe_history (kind, id, seq);
      -- History rows through this position are each the latest of their document as the last
      -- compaction saw them (0: no compaction has run since this column was added): the next
      -- one looks only at documents with a row after it.
      ALTER TABLE troupe_feed ADD COLUMN pruned_through bigint NOT NULL DEFAULT 0;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * The advisory lock a migration holds ("troupe" in ASCII), the one every version of troupe
 * has taken: instances of different versions starting together still migrate one at a time.
 * Only a migration takes it; opening a store already up to date does not (see versionOf).
 */
const MIGRATION_LOCK = 0x74726f757065;

/**
 * The store's schema version, read without a lock or any DDL (undefined: no store there), so
 * opening a store already up to date needs no CREATE privilege and waits on no one.
 */
async function versionOf(db: SqlClient, schema: string): Promise<number | undefined> {
  const table = `${quoted(schema)}.troupe_migrations`;
  const { rows: found } = await db.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
  if (!found[0]?.t) return undefined;
  const { rows } = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table}`);
  return Number(rows[0]?.v ?? 0);
}

const newerThanKnown = (db: SqlClient, from: number) =>
  new TroupeError(
    'USAGE',
    `the database at ${db.where} has schema version ${from}; this troupe knows up to ${SCHEMA_VERSION}: upgrade troupe`,
    { context: { where: db.where, found: from, known: SCHEMA_VERSION } },
  );

/**
 * Brings the schema up to this troupe's version; refuses (USAGE) a database a newer troupe
 * has migrated, rather than write what that version would not expect. Returns the version
 * found before and after.
 */
export async function migrate(
  db: SqlClient,
  schema: string,
  opts: { create?: boolean | undefined } = {},
): Promise<{ from: number; to: number }> {
  // Its first read (connecting, the version the schema is at) is any command's opening of the
  // store: a database that is not there, or a refused password, is said as such.
  let current: number | undefined;
  try {
    current = await versionOf(db, schema);
  } catch (e) {
    throw databaseError(e, db.where, 'open the store');
  }
  try {
    if (current !== undefined && current > SCHEMA_VERSION) throw newerThanKnown(db, current);
    if (current === SCHEMA_VERSION) return { from: current, to: current };
    // READ COMMITTED: each statement sees what an instance that held the lock before committed
    // (a serializable snapshot, taken while waiting for the lock, would not).
    return await db.transaction(
      async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
        const { rows: found } = await tx.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
          `${quoted(schema)}.troupe_migrations`,
        ]);
        // Opening is not creating: only `init` (create) makes a store where there is none.
        if (!found[0]?.t && opts.create === false)
          throw new TroupeError(
            'NOT_A_TROUPE_DIRECTORY',
            `${db.where} has no troupe store (schema "${schema}"): run \`troupe init --store …\` to create one`,
            { context: { where: db.where, schema } },
          );
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS troupe_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const { rows } = await tx.query<{ v: number | null }>(
          'SELECT max(version) AS v FROM troupe_migrations',
        );
        const from = Number(rows[0]?.v ?? 0);
        if (from > SCHEMA_VERSION) throw newerThanKnown(db, from);
        for (const m of MIGRATIONS) {
          if (m.version <= from) continue;
          await tx.exec(m.sql);
          await tx.query('INSERT INTO troupe_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
        }
        return { from, to: SCHEMA_VERSION };
      },
      { isolation: 'read committed' },
    );
  } catch (e) {
    throw databaseError(e, db.where, 'migrate its schema');
  }
}
