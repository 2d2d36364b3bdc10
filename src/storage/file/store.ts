import { readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { assertValidId } from '../../domain/common.js';
import { TroupeError, validationError } from '../../domain/errors.js';
import { keyOf, planBatch } from '../batch.js';
import {
  type BatchOp,
  type CommitResult,
  type DocInput,
  KINDS,
  type Kind,
  type Store,
  type StoredDoc,
  type StoreOptions,
  singular,
  type WriteOptions,
} from '../store.js';
import {
  type ApplyContext,
  applyChanges,
  type FileStoreHooks,
  type PendingChange,
  pruneAfter,
  recover,
} from './apply.js';
import { type BackupInfo, listBackups, readBackup } from './backups.js';
import { decodeDoc, invalidFiles, type ScanEntry } from './codec.js';
import { errnoOf, ioError } from './io.js';
import { journalExists, removeJournal, writeJournal } from './journal.js';
import { entityRel, Layout, TROUPE_DIR } from './layout.js';
import { type HeldLock, withLock } from './lock.js';
import { createLayout, readMarker } from './marker.js';
import { scanFolders } from './scan.js';

export interface FileStoreOptions extends StoreOptions {
  /** Previous versions kept per entity in `.troupe/backups/`; default 5, 0 keeps none. */
  backups?: number | undefined;
  /** A lock held by a process on another machine is broken when untouched this long; default 10 s. */
  lockStaleMs?: number | undefined;
  /** How long a commit waits for the lock before LOCK_FAILED; default 15 s. */
  lockTimeoutMs?: number | undefined;
  /** Crash-injection points for tests. */
  hooks?: FileStoreHooks | undefined;
}

type Read = { doc?: StoredDoc; text?: string };

function assertKind(kind: unknown): asserts kind is Kind {
  if (!KINDS.includes(kind as Kind)) {
    throw validationError(`unknown kind ${JSON.stringify(kind)}; expected one of ${KINDS.join(', ')}`, [
      { path: 'kind', message: `must be one of ${KINDS.join(', ')}` },
    ]);
  }
}

function checkOptions(opts: FileStoreOptions) {
  const bad = (name: string, v: unknown, min: number) =>
    v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      ? new TroupeError(
          'USAGE',
          `file store option ${name} must be a whole number of at least ${min}, got ${String(v)}`,
        )
      : undefined;
  const e =
    bad('backups', opts.backups, 0) ??
    bad('lockStaleMs', opts.lockStaleMs, 1) ??
    bad('lockTimeoutMs', opts.lockTimeoutMs, 0);
  if (e) throw e;
}

/**
 * The embedded default store: one pretty JSON file per entity under `<dir>/<kind>/<id>.json`,
 * with its own state in `<dir>/.troupe/`. Every commit holds an inter-process lock, plans
 * against the files on disk, records the whole batch in one fsynced journal record and then
 * applies it, so a crash at any point leaves all of a batch or none of it.
 */
export class FileStore implements Store {
  readonly dir: string;
  readonly #layout: Layout;
  readonly #key: string;
  readonly #now: () => number;
  readonly #ctx: ApplyContext;
  readonly #lockOpts: { dir: string; staleMs: number; timeoutMs: number };
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(layout: Layout, key: string, opts: FileStoreOptions) {
    this.dir = layout.root;
    this.#layout = layout;
    this.#key = key;
    this.#now = opts.now ?? Date.now;
    this.#ctx = { layout, backups: opts.backups ?? 5, hooks: opts.hooks ?? {} };
    this.#lockOpts = {
      dir: layout.root,
      staleMs: opts.lockStaleMs ?? 10_000,
      timeoutMs: opts.lockTimeoutMs ?? 15_000,
    };
  }

  /** Creates the layout if needed (a missing or existing directory is fine) and opens the store. */
  static async init(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    checkOptions(opts);
    const layout = new Layout(resolve(dir));
    await createLayout(layout);
    return FileStore.open(layout.root, opts);
  }

  /** Opens an existing store (NOT_A_TROUPE_DIRECTORY otherwise), finishing any interrupted commit. */
  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    checkOptions(opts);
    const layout = new Layout(resolve(dir));
    await readMarker(layout);
    const store = new FileStore(layout, await realpath(layout.root), opts);
    // A journal means a commit is running elsewhere or died; under the lock, only the latter remains.
    if (await journalExists(layout.journal)) {
      await store.#withLock(async () => {
        await recover(store.#ctx);
      });
    }
    return store;
  }

  #assertOpen() {
    if (this.#closed) throw new TroupeError('USAGE', `the file store at ${this.dir} is closed`);
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const done = () => this.#pending.delete(p);
    p.then(done, done);
    return p;
  }

  #withLock<T>(fn: (lock: HeldLock) => Promise<T>): Promise<T> {
    return withLock(this.#key, this.#layout.lock, this.#lockOpts, fn);
  }

  /** Reads one entity file from disk; VALIDATION_FAILED naming the file if it is not a valid document. */
  async #read(kind: Kind, id: string): Promise<Read> {
    assertKind(kind);
    assertValidId(id, singular[kind]);
    const path = this.#layout.entity(kind, id);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return {};
      throw ioError('read', path, e);
    }
    const d = decodeDoc(text, entityRel(kind, id), id);
    if (!d.ok) throw invalidFiles([d.issue], { kind, id, file: d.issue.file });
    return { doc: d.doc, text };
  }

  async get(kind: Kind, id: string): Promise<StoredDoc | undefined> {
    this.#assertOpen();
    return (await this.#read(kind, id)).doc;
  }

  async list(kind: Kind): Promise<StoredDoc[]> {
    this.#assertOpen();
    const entries = await this.scan(kind);
    const issues = entries.flatMap((e) => (e.error ? [e.error] : []));
    if (issues.length > 0) throw invalidFiles(issues, { kind });
    return entries.map((e) => e.doc!).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Every `*.json` file of one kind folder (or all), each with its document or its problem;
   * never throws for a bad file, so a validator can report them all at once.
   */
  async scan(kind?: Kind): Promise<ScanEntry[]> {
    this.#assertOpen();
    if (kind !== undefined) assertKind(kind);
    return scanFolders(this.#layout, kind === undefined ? KINDS : [kind]);
  }

  async put(kind: Kind, doc: DocInput, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.commit([
      { op: 'put', kind, doc, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  async delete(kind: Kind, id: string, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.commit([
      { op: 'delete', kind, id, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  /** All-or-nothing across kinds, and across processes: planned from disk under the lock. */
  commit(ops: BatchOp[]): Promise<CommitResult> {
    try {
      this.#assertOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#track(this.#withLock((lock) => this.#commitLocked(ops, lock)));
  }

  async #commitLocked(ops: BatchOp[], lock: HeldLock): Promise<CommitResult> {
    const ctx = this.#ctx;
    await recover(ctx);
    const reads = new Map<string, Read>();
    const { changes, result: planned } = await planBatch(
      ops,
      async (kind, id) => {
        const r = await this.#read(kind, id);
        reads.set(keyOf(kind, id), r);
        return r.doc;
      },
      this.#now,
    );
    const result = structuredClone(planned);
    if (changes.size === 0) return result;
    const pending: PendingChange[] = [...changes.entries()].map(([key, c]) => {
      const before = reads.get(key);
      return { kind: c.kind, id: c.id, prev: before?.doc?.revision ?? 0, doc: c.doc, before: before?.text };
    });
    await lock.assertHeld();
    try {
      await writeJournal(
        this.#layout.journal,
        pending.map(({ before: _b, ...c }) => c),
        ctx.hooks,
      );
    } catch (e) {
      // Not durably recorded, so not committed: make sure no later recovery replays it.
      await removeJournal(this.#layout.journal).catch(() => undefined);
      throw e;
    }
    await ctx.hooks.afterJournal?.();
    try {
      await applyChanges(ctx, pending);
    } catch (e) {
      // The journal already decides the outcome: finish it now if the disk allows, else on next open.
      try {
        await recover(ctx);
      } catch {
        throw new TroupeError(
          'IO_ERROR',
          `${e instanceof Error ? e.message : String(e)}; the change is recorded in ${TROUPE_DIR}/journal ` +
            'and will be completed when the store is next opened',
          { cause: e, context: { dir: this.dir } },
        );
      }
      return result;
    }
    await ctx.hooks.beforeJournalRemove?.();
    await removeJournal(this.#layout.journal);
    await pruneAfter(ctx, pending);
    return result;
  }

  /** Previous versions of an entity kept in `.troupe/backups/`, newest first. */
  async listBackups(kind: Kind, id: string): Promise<BackupInfo[]> {
    this.#assertOpen();
    assertKind(kind);
    assertValidId(id, singular[kind]);
    return listBackups(this.#layout, kind, id);
  }

  /** One kept previous version, or undefined if there is no backup of that revision. */
  async readBackup(kind: Kind, id: string, revision: number): Promise<StoredDoc | undefined> {
    this.#assertOpen();
    assertKind(kind);
    assertValidId(id, singular[kind]);
    if (!Number.isInteger(revision) || revision < 0) {
      throw validationError(`revision must be a whole number, got ${String(revision)}`, [
        { path: 'revision', message: 'must be a whole number' },
      ]);
    }
    return readBackup(this.#layout, kind, id, revision);
  }

  /** Waits for this store's commits in flight; later calls fail with USAGE. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
  }
}
