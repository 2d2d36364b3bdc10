import { assertValidId, MAX_REVISION } from '../domain/common.js';
import { TroupeError, throwIfCancelled } from '../domain/errors.js';
import { printable } from '../domain/text.js';
import { keyOf, planBatch } from '../storage/batch.js';
import { BatchStore } from '../storage/batch-store.js';
import { checkFence } from '../storage/fence.js';
import type {
  BatchOp,
  CarriedWrite,
  ChangeEvent,
  CommitOptions,
  CommitResult,
  Kind,
  RelistEvent,
  ScanEntry,
  StoredDoc,
  StoreOptions,
  Stray,
  WatchOptions,
} from '../storage/store.js';
import { byId, KINDS, singular } from '../storage/store.js';
import { Coalesced } from './coalesced.js';
import { BY_KEY, docJson, docsJson, matchingQuery, WRITE } from './document-queries.js';
import { compactFeed, feedChannel, watchFeed } from './feed.js';
import { migrate } from './migrations.js';
import { outcomeOf } from './outcome.js';
import { checkSchema, type PgClientOptions, pgClient, schemaOf } from './pg-client.js';
import { pgliteClient } from './pglite-client.js';
import type { PgliteDatabase } from './pglite-database.js';
import { checkedRows, rowDoc, scanRows } from './row-check.js';
import { PostgresRunLog } from './run-log.js';
import { PostgresRunQueue } from './run-queue.js';
import {
  databaseError,
  isRaceLost,
  isUnreachable,
  RACE_TRIES,
  retryingRaces,
  type Sql,
  type SqlClient,
} from './sql.js';

/** The connection's options (pool size, schema, statement naming, lock wait), and: */
export interface PostgresStoreOptions extends StoreOptions, PgClientOptions {
  /**
   * Create the store (its schema and tables) if there is none; default true. False refuses a
   * database with no troupe store in it (NOT_A_TROUPE_DIRECTORY), as the CLI does for every
   * command but `init`: a mistyped URL is an error, never a new empty store.
   */
  create?: boolean;
}

type Row = { kind: Kind; id: string; doc: StoredDoc };

/**
 * A Store over PostgreSQL 15+ (or PGlite, embedded): one SERIALIZABLE transaction per commit,
 * the revision column for compare-and-swap, the guards checked inside the transaction, every
 * version kept as a history row. A commit that loses a race to another instance's is planned
 * again on what is there now, so its guards and expected revisions decide it exactly as on the
 * file store: CONCURRENT_MODIFICATION when what it expected has moved, else it goes through.
 *
 * @example
 * ```ts
 * import { PostgresStore } from 'troupe/postgres';
 * const store = await PostgresStore.connect('postgres://troupe@db/troupe', { poolSize: 5 });
 * const config = new ConfigurationService(store, { runLog: store.runLog() });
 * ```
 */
export class PostgresStore extends BatchStore {
  readonly #db: SqlClient;
  readonly #now: () => number;
  #closed = false;
  /** The schema version found on opening, and the one it was brought to. */
  readonly migrated: { from: number; to: number };
  readonly #schema: string;

  private constructor(db: SqlClient, opts: PostgresStoreOptions, migrated: { from: number; to: number }) {
    super();
    this.#db = db;
    this.#schema = opts.schema ?? 'public';
    this.#now = opts.now ?? Date.now;
    this.migrated = migrated;
  }

  /**
   * Connects to PostgreSQL (`postgres://…`) and brings the schema up to date (see `migrate`);
   * `pglite:PATH` opens the embedded database in PATH, as `pglite(PATH)` does. Any other
   * scheme is refused (USAGE): it is never taken for a server's address.
   */
  static async connect(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const refused = (why: string) => new TroupeError('USAGE', why, { context: { field: 'url' } });
    if (typeof url === 'string' && /^pglite:/i.test(url)) {
      const dir = url.slice('pglite:'.length);
      if (!dir) throw refused('pglite: needs a directory, e.g. pglite:./troupe-db');
      return PostgresStore.pglite(dir, opts);
    }
    // pg's own forms: a URL, or socket:/path/to/dir?db=… for a Unix socket.
    if (typeof url !== 'string' || !/^(postgres(ql)?:\/\/|socket:)/i.test(url))
      throw refused(
        'PostgresStore.connect takes a postgres://… URL (or socket:…), or pglite:PATH for an embedded database',
      );
    const schema = opts.schema ?? schemaOf(url).schema;
    const db = await pgClient(url, opts);
    return PostgresStore.#open(db, schema === undefined ? opts : { ...opts, schema });
  }

  /** An embedded PGlite database in `dir` (or one the caller made), schema brought up to date. */
  static async pglite(
    target: string | PgliteDatabase,
    opts: PostgresStoreOptions = {},
  ): Promise<PostgresStore> {
    const db = await pgliteClient(target, opts);
    return PostgresStore.#open(db, opts);
  }

  /**
   * A store over a database client already made (one of `connect`'s or `pglite`'s, wrapped:
   * tests pass every statement through a hook of their own to inject faults).
   */
  static async over(db: SqlClient, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    return PostgresStore.#open(db, opts);
  }

  static async #open(db: SqlClient, opts: PostgresStoreOptions): Promise<PostgresStore> {
    let migrated: { from: number; to: number };
    try {
      migrated = await migrate(db, checkSchema(opts.schema ?? 'public'), { create: opts.create });
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return new PostgresStore(db, opts, migrated);
  }

  /** The database this store talks to, for the run log and the change feed over the same one. */
  get sql(): SqlClient {
    return this.#db;
  }

  /**
   * The change feed: every put and delete after `fromRevision` (a position of the feed), then
   * each as it is committed, through LISTEN/NOTIFY; `relist` first if history was compacted
   * past it. Ends when `signal` aborts.
   */
  watch(opts: WatchOptions = {}): AsyncIterable<ChangeEvent | RelistEvent> {
    this.#assertOpen();
    return watchFeed(this.#db, this.#schema, opts);
  }

  /** The feed's position now: list, then `watch({ fromRevision })` from it, and nothing falls between. */
  async feedPosition(): Promise<number> {
    this.#assertOpen();
    const { rows } = await this.#read((db) =>
      db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM troupe_history'),
    );
    return Number(rows[0]?.seq ?? 0);
  }

  /** Drops the history (backups and feed) through `position`, keeping each document's latest version. */
  async compactHistory(position: number): Promise<void> {
    this.#assertOpen();
    await compactFeed(this.#db, position).catch((e) => {
      throw databaseError(e, this.#db.where, 'compact its history');
    });
  }

  /** Runs recorded in this database, shared with every instance on it (see PostgresRunLog). */
  runLog(opts: { leaseMs?: number } = {}): PostgresRunLog {
    return new PostgresRunLog(this.#db, opts);
  }

  /** Runs queued for any instance on this database to take (see PostgresRunQueue). */
  runQueue(log: PostgresRunLog = this.runLog()): PostgresRunQueue {
    return new PostgresRunQueue(this.#db, this.#schema, log);
  }

  #assertOpen(): void {
    if (this.#closed) throw new TroupeError('USAGE', `the store at ${this.#db.where} is closed`);
  }

  async get(kind: Kind, id: string): Promise<StoredDoc | undefined> {
    this.#assertOpen();
    assertKind(kind);
    assertValidId(id, singular[kind]);
    const doc = (await this.#reads.get(keyOf(kind, id))) as StoredDoc | undefined;
    return doc && checkedRows(kind, [doc], { id })[0];
  }

  /**
   * Reads asked for in one turn of the event loop go as one query: one snapshot, one round
   * trip. A key `kind/id` is a document; `kind/` is every document of the kind, by id.
   */
  readonly #reads = new Coalesced<StoredDoc | StoredDoc[]>(async (keys) => {
    const gets = keys.filter((k) => !k.endsWith('/')).map((k) => k.split('/') as [Kind, string]);
    const lists = keys.filter((k) => k.endsWith('/')).map((k) => k.slice(0, -1));
    const { rows } = await this.#read((db) =>
      gets.length === 1 && !lists.length
        ? db.query<Row>('SELECT kind, id, doc FROM troupe_documents WHERE kind = $1 AND id = $2', gets[0])
        : db.query<Row>(
            `${BY_KEY('$1', '$2', 'AND NOT (k.kind = ANY($3::text[]))')}
             UNION ALL SELECT kind, id, doc FROM troupe_documents WHERE kind = ANY($3::text[])`,
            [gets.map((p) => p[0]), gets.map((p) => p[1]), lists],
          ),
    );
    const found = new Map<string, StoredDoc | StoredDoc[]>(lists.map((k) => [`${k}/`, []]));
    const wanted = new Set(keys);
    for (const r of rows) {
      const key = keyOf(r.kind, r.id);
      const doc = rowDoc(r);
      if (wanted.has(key)) found.set(key, doc);
      (found.get(`${r.kind}/`) as StoredDoc[] | undefined)?.push(doc);
    }
    // Ids are lowercase slugs: code-unit order is the C collation a list is sorted by.
    for (const k of lists) (found.get(`${k}/`) as StoredDoc[]).sort(byId);
    return found;
  });

  async list(kind: Kind): Promise<StoredDoc[]> {
    this.#assertOpen();
    assertKind(kind);
    return checkedRows(kind, (await this.#reads.get(`${kind}/`)) as StoredDoc[]);
  }

  /** Every row of a kind (or all), each with its document or its problem (what `validate` lists). */
  async scan(kind?: Kind): Promise<ScanEntry[]> {
    this.#assertOpen();
    if (kind !== undefined) assertKind(kind);
    const kinds = kind === undefined ? KINDS : [kind];
    const all = await Promise.all(kinds.map((k) => this.#reads.get(`${k}/`) as Promise<StoredDoc[]>));
    return kinds.flatMap((k, i) => scanRows(k, all[i]!));
  }

  /**
   * Rows no read ever hands on: of a kind troupe does not know (added with SQL by hand, or by a
   * newer troupe), named `kind/id`, as validate and every command warn of them. A bounded
   * listing: the first STRAYS_SHOWN, and how many more.
   */
  async strays(): Promise<Stray[]> {
    this.#assertOpen();
    const { rows } = await this.#read((db) =>
      db.query<{ kind: string; id: string; n: number }>(
        `SELECT kind, id, (count(*) OVER ())::int AS n FROM troupe_documents
         WHERE NOT (kind = ANY($1::text[])) ORDER BY kind, id LIMIT ${STRAYS_SHOWN}`,
        [[...KINDS]],
      ),
    );
    const why = `a row of no kind troupe knows (kinds are ${KINDS.join(', ')}): never read; delete it, or move it to its kind`;
    const name = (t: string) => printable(t.length > 100 ? `${t.slice(0, 100)}…` : t);
    const shown = rows.map((r) => ({ file: `${name(r.kind)}/${name(r.id)}`, why }));
    const more = (rows[0]?.n ?? 0) - rows.length;
    return more > 0 ? [...shown, { file: `${more} more rows`, why }] : shown;
  }

  /** Documents by field (an agent's personality, role or model: indexed; see matchingQuery). */
  async find(kind: Kind, where: Record<string, string>): Promise<StoredDoc[]> {
    this.#assertOpen();
    assertKind(kind);
    const { text, params } = matchingQuery(kind, where);
    const { rows } = await this.#read((db) => db.query<Row>(text, params));
    return checkedRows(kind, rows.map(rowDoc).sort(byId));
  }

  /** A version this store wrote, while its history row is kept. */
  async readBackup(kind: Kind, id: string, revision: number): Promise<StoredDoc | undefined> {
    this.#assertOpen();
    assertKind(kind);
    assertValidId(id, singular[kind]);
    // No revision past the column's range was ever written (a tag asking for one, say).
    if (!Number.isSafeInteger(revision) || revision < 0 || revision > MAX_REVISION) return undefined;
    const { rows } = await this.#read((db) =>
      db.query<Row>(
        `SELECT doc FROM troupe_history WHERE kind = $1 AND id = $2 AND revision = $3 AND op = 'put'
         ORDER BY seq DESC LIMIT 1`,
        [kind, id, revision],
      ),
    );
    return rows[0]?.doc;
  }

  async #read<T>(fn: (db: Sql) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#db);
    } catch (e) {
      throw databaseError(e, this.#db.where, 'read');
    }
  }

  /**
   * All-or-nothing in one transaction. The rows the batch names are read (and locked) first,
   * the batch is planned against them exactly as every adapter plans it, then written with one
   * statement per table. A serialization failure (another instance committed something this
   * batch read) is retried from the start; an abort is honoured up to the writes.
   */
  async commit(ops: BatchOp[], opts: CommitOptions = {}): Promise<CommitResult> {
    this.#assertOpen();
    for (const op of ops) assertKind(op.kind);
    const carried = opts.carried && this.carries(opts.carried) ? opts.carried : undefined;
    try {
      return await retryingRaces(
        async () => {
          // Told whether the transaction that made them committed (once it is known).
          let decided: ((committed: boolean) => void) | undefined;
          // The transaction's id and what it wrote, once its writes are in: a COMMIT whose answer
          // is lost (the connection cut) may have happened, and the server is asked.
          const sent: { xid?: string; result?: CommitResult; written?: Promise<unknown> } = {};
          try {
            const result = await this.#db.transaction(async (tx) => {
              const r = await this.#commitIn(tx, ops, opts, sent);
              if (carried) decided = await carried.writeIn(tx);
              sent.result = r;
              return r;
            });
            decided?.(true);
            return result;
          } catch (caught) {
            // The write's own failure, if it failed: what was sent behind it (the run events it
            // carries) failed only because the transaction was aborted by then.
            const e =
              (await sent.written?.then(
                () => undefined,
                (w: unknown) => w,
              )) ?? caught;
            const outcome =
              sent.result && sent.xid && isUnreachable(e) ? await outcomeOf(this.#db, sent.xid) : undefined;
            if (outcome === 'committed' && sent.result) {
              decided?.(true);
              return sent.result;
            }
            decided?.(false);
            if (outcome === 'unknown')
              throw new TroupeError(
                'TRANSIENT',
                `the connection to PostgreSQL at ${this.#db.where} was lost at COMMIT, and the server could not be asked whether it committed: the change may have been written; recovery finds out, and undoes it if it was`,
                // Not tried again: a retry of a change that did commit would be refused by its own write.
                { cause: e, retryable: false, context: { where: this.#db.where, transaction: sent.xid } },
              );
            throw e;
          }
        },
        () => throwIfCancelled(opts.signal),
      );
    } catch (e) {
      if (e instanceof TroupeError) throw e;
      if (isRaceLost(e))
        throw new TroupeError(
          'CONCURRENT_MODIFICATION',
          `the commit kept losing to other writers at ${this.#db.where} (${RACE_TRIES} tries)`,
          { cause: e },
        );
      throw databaseError(e, this.#db.where, 'commit');
    }
  }

  /** A document is named by its row, `personalities/calm`: a database has no files. */
  placeOf(kind: Kind, id: string): string {
    return `${kind}/${id}`;
  }

  /** Writes of a run log over this very database are made in the commit's own transaction. */
  carries(w: CarriedWrite): boolean {
    return w.sink === this.#db;
  }

  /**
   * One commit in two round trips: BEGIN with the run's fence and the named rows, read and
   * locked in one statement that also answers the transaction's id (in `sent`); then every
   * write (documents, history, the feed's lock and notice) in one statement, sent with the run
   * events the commit carries and its COMMIT.
   */
  async #commitIn(
    tx: Sql,
    ops: BatchOp[],
    opts: CommitOptions,
    sent: { xid?: string; written?: Promise<unknown> },
  ): Promise<CommitResult> {
    const named = new Map<string, { kind: Kind; id: string }>();
    for (const op of ops) {
      if (op.op === 'absent') continue;
      const id = op.op === 'put' ? op.doc.id : op.id;
      if (typeof id === 'string') named.set(keyOf(op.kind, id), { kind: op.kind, id });
    }
    const keys = [...named.values()];
    const current = new Map<string, StoredDoc>();
    if (keys.length || opts.fence) {
      const { rows } = await tx.query<{
        fence_epoch: number | null;
        docs: Array<[Kind, string, StoredDoc]>;
        xid: string;
      }>(
        // The fence's row is share-locked: a takeover (which locks it to bump the epoch) lands
        // wholly before this commit or wholly after it. A commit carrying the run's events
        // moves its summary too, so it locks the row for that from the start (taken later, with
        // the feed's lock held, it could wait on another commit of the run waiting on that lock).
        // The transaction's id is drawn here, before anything is written: a COMMIT whose answer
        // is lost can be asked about, whichever of the writes sent with it were answered.
        `WITH fence AS (SELECT epoch FROM troupe_runs WHERE run_id = $3 ${opts.carried ? 'FOR NO KEY UPDATE' : 'FOR SHARE'})
         SELECT (SELECT epoch FROM fence) AS fence_epoch,
           (SELECT coalesce(json_agg(json_build_array(kind, id, doc)), '[]') FROM (
              ${BY_KEY('$1', '$2', '', 'FOR UPDATE')}) d) AS docs,
           pg_current_xact_id()::text AS xid`,
        [keys.map((k) => k.kind), keys.map((k) => k.id), opts.fence?.runId ?? null],
      );
      const row = rows[0];
      if (row?.xid) sent.xid = row.xid;
      if (opts.fence) checkFence(opts.fence, row?.fence_epoch ?? undefined);
      for (const [kind, id, doc] of row?.docs ?? []) current.set(keyOf(kind, id), doc);
    }
    const matching = async (kind: Kind, where: Record<string, string>) => {
      const { text, params } = matchingQuery(kind, where);
      return (await tx.query<Row>(text, params)).rows.map((r) => r.doc);
    };
    const { changes, result } = await planBatch(
      ops,
      async (k, id) => current.get(keyOf(k, id)),
      this.#now,
      matching,
    );
    // The commit point is the COMMIT below: an abort until the writes start leaves nothing.
    throwIfCancelled(opts.signal);
    const puts = [...changes.values()].filter((c) => c.doc !== null) as Array<{
      kind: Kind;
      id: string;
      doc: StoredDoc;
    }>;
    const deletes = [...changes.values()].filter((c) => c.doc === null);
    const history = result.results;
    // Every put and delete has its history row: a batch that changes nothing writes nothing.
    // Sent, not waited on: the transaction's COMMIT goes right after it (and the run events it
    // carries), and fails if it did.
    if (history.length) {
      const json = docJson();
      sent.written = tx.query(WRITE, [
        puts.map((p) => p.kind),
        puts.map((p) => p.id),
        puts.map((p) => p.doc.revision),
        docsJson(
          puts.map((p) => p.doc),
          json,
        ),
        deletes.map((d) => d.kind),
        deletes.map((d) => d.id),
        history.map((h) => h.kind),
        history.map((h) => h.id),
        history.map((h) => h.doc.revision),
        history.map((h) => h.op),
        history.map((h) => h.doc.commit ?? null),
        docsJson(
          history.map((h) => h.doc),
          json,
        ),
        feedChannel(this.#schema),
      ]);
      sent.written.catch(() => undefined); // thrown by the transaction (see commit's catch)
      // A client that sends each statement only once the one before is answered: waited on
      // here, so its COMMIT can never go ahead of the write.
      if (!this.#db.pipelines) await sent.written;
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.close();
  }
}

/** Rows of an unknown kind listed by name at most (see strays). */
const STRAYS_SHOWN = 50;

function assertKind(kind: string): asserts kind is Kind {
  if (!(KINDS as readonly string[]).includes(kind))
    throw new TroupeError('USAGE', `unknown kind "${kind}"; kinds are ${KINDS.join(', ')}`);
}
