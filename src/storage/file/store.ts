import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { assertValidId } from '../../domain/common.js';
import { isTroupeError, TroupeError, throwIfCancelled, validationError } from '../../domain/errors.js';
import { MAX_FILE_BYTES } from '../../domain/file-size.js';
import { printable } from '../../domain/text.js';
import { utf8Text } from '../../domain/utf8.js';
import { claimedSince } from '../../platform/lease-files.js';
import { keyOf, planBatch } from '../batch.js';
import { BatchStore } from '../batch-store.js';
import { cloneJson } from '../clone.js';
import { checkFence } from '../fence.js';
import {
  type BatchOp,
  byId,
  type ChangeEvent,
  type CommitOptions,
  type CommitResult,
  type Fence,
  KINDS,
  type Kind,
  type RelistEvent,
  type StoredDoc,
  type StoreOptions,
  type Stray,
  singular,
  type WatchOptions,
} from '../store.js';
import {
  type ApplyContext,
  applyChanges,
  assertBackupDirs,
  type FileStoreHooks,
  type PendingChange,
  pruneAfter,
} from './apply.js';
import { type BackupInfo, listBackups, readBackup } from './backups.js';
import { decodeDoc, invalidFiles, notUtf8, type ScanEntry, tooLarge } from './codec.js';
import { errnoOf, ioError } from './io.js';
import { Journal, journalHasEntries, parseJournal } from './journal.js';
import { entityIdFromFileName, entityRel, isTempName, Layout, strayWhy, TROUPE_DIR } from './layout.js';
import { assertNoLinks, linkRefused } from './links.js';
import { type HeldLock, withLock } from './lock.js';
import { createLayout, readMarker } from './marker.js';
import { checkpoint, recover } from './recovery.js';
import { scanFolders } from './scan.js';
import { watchDirectory } from './watch.js';

export interface FileStoreOptions extends StoreOptions {
  /** Previous versions kept per entity in `.troupe/backups/`; default 5, 0 keeps none. */
  backups?: number | undefined;
  /** A lock held by a process on another machine is broken when untouched this long; default 10 s. */
  lockStaleMs?: number | undefined;
  /** How long a commit waits for the lock before LOCK_FAILED; default 15 s. */
  lockTimeoutMs?: number | undefined;
  /**
   * Commits the journal may hold before a checkpoint fsyncs their files and empties it (it also
   * runs past 1 MiB of journal, and on close()); default 64, 1 checkpoints after every commit.
   */
  checkpointCommits?: number | undefined;
  /** Crash-injection points for tests. */
  hooks?: FileStoreHooks | undefined;
  /**
   * The folder of the file run log whose leases fence this store's commits (`Store.commit({
   * fence })`): a step of a run claimed since by another process, or by `workflow recover
   * --force`, writes nothing. Named, it is the run log's folder for certain: a run with no file
   * there (taken over and ended since, its log pruned) is refused too. Default `.troupe/runs` in
   * the store, where the CLI keeps its run log, where a run with no file there is taken for one
   * whose log is elsewhere, with nothing to check.
   */
  runsDir?: string | undefined;
}

type Read = { doc?: StoredDoc; text?: string };

/** A decoded file, valid while its inode, size and mtime are unchanged (every write renames a new inode in). */
type Cached = { ino: bigint; size: bigint; mtimeNs: bigint; doc: StoredDoc; text: string };
const READ_CACHE_SIZE = 4096;

function assertKind(kind: unknown): asserts kind is Kind {
  if (!KINDS.includes(kind as Kind)) {
    throw validationError(`unknown kind ${JSON.stringify(kind)}; expected one of ${KINDS.join(', ')}`, [
      { path: 'kind', message: `must be one of ${KINDS.join(', ')}` },
    ]);
  }
}

/** The error of a commit decided in the journal whose files could not be written yet. */
function notApplied(dir: string, e: unknown): TroupeError {
  if (e instanceof TroupeError && e.context.committed === true) return e;
  return new TroupeError(
    'IO_ERROR',
    `a committed change could not be written to the files of ${dir} yet: ` +
      `${e instanceof Error ? e.message : String(e)}; it is recorded in ${TROUPE_DIR}/journal, and every ` +
      'command finishes it before anything else, stopping here until it can (make that file writable, or free some space)',
    { cause: e, context: { dir, committed: true } },
  );
}

/**
 * Finishes (or cuts off) what the journal holds, or says why it cannot yet (see notApplied).
 * `before`: the change about to be committed, which is then not made at all, and says so.
 */
async function finishJournal(
  ctx: ApplyContext,
  journal: Journal,
  dir: string,
  before = false,
): Promise<void> {
  try {
    await recover(ctx, journal);
  } catch (e) {
    if (isTroupeError(e) && e.code !== 'IO_ERROR') throw e;
    const stuck = notApplied(dir, e);
    if (!before) throw stuck;
    throw new TroupeError(
      'IO_ERROR',
      `this change was not made (nothing of it was written): an earlier one stands in its way: ${stuck.message}`,
      {
        cause: e,
        context: { dir },
      },
    );
  }
}

/** The directory argument of init and open: a path, said so when it is anything else. */
function checkDir(dir: unknown): asserts dir is string {
  if (typeof dir !== 'string' || dir === '')
    throw new TroupeError(
      'USAGE',
      `a file store needs the path of its directory, got ${dir === '' ? 'an empty one' : typeof dir}`,
      {
        context: { field: 'dir' },
      },
    );
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
    bad('lockTimeoutMs', opts.lockTimeoutMs, 0) ??
    bad('checkpointCommits', opts.checkpointCommits, 1);
  if (e) throw e;
}

/** Past this many bytes of journal a commit checkpoints, whatever the number of commits. */
const CHECKPOINT_BYTES = 1 << 20;
/** Entity files a commit reads in parallel before planning. */
const READ_AHEAD = 32;

/** An entity's name on something that is not a regular file: never opened (a FIFO would block). */
const notAFile = (rel: string, what: string, entity: { kind: Kind; id: string }) =>
  new TroupeError(
    'VALIDATION_FAILED',
    `${rel} is ${what}, not a file: troupe reads only regular files there; remove it`,
    {
      issues: [{ file: rel, path: '(file)', message: `is ${what}, not a file` }],
      context: { path: rel, ...entity },
    },
  );

/**
 * The embedded default store: one pretty JSON file per entity under `<dir>/<kind>/<id>.json`,
 * with its own state in `<dir>/.troupe/`. Every commit holds an inter-process lock, plans
 * against the files on disk and appends the whole batch to a write-ahead journal as one
 * fdatasynced record: that is the commit point. It then replaces the files (temp file and
 * rename, so readers in any process see them at once and never half-written) without an fsync
 * each. A checkpoint later fsyncs the files and their folders and only then drops the
 * records, so a crash or power loss at any point leaves all of a batch or none of it.
 *
 * @example
 * ```ts
 * const store = await FileStore.init('./.troupe-config'); // FileStore.open() for an existing one
 * await store.commit([
 *   { op: 'put', kind: 'personalities', doc: { id: 'calm', name: 'Calm' }, create: true },
 *   { op: 'check', kind: 'roles', id: 'reviewer', expectedRevision: 3 },
 * ]); // all or nothing, across processes; CONCURRENT_MODIFICATION if a revision moved on
 * await store.close();
 * ```
 */
export class FileStore extends BatchStore {
  readonly dir: string;
  readonly #layout: Layout;
  readonly #key: string;
  readonly #now: () => number;
  readonly #ctx: ApplyContext;
  readonly #cache = new Map<string, Cached>();
  readonly #journal: Journal;
  readonly #checkpointCommits: number;
  readonly #lockOpts: { dir: string; staleMs: number; timeoutMs: number };
  readonly #runsDir: string;
  readonly #runsNamed: boolean;
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** This store has written to the journal, so close() checkpoints it. */
  #wrote = false;
  /**
   * A commit of this store is decided in the journal but its files could not be written (a
   * full disk, say): until they are, the files do not show it, so reads finish it first.
   */
  #unapplied = false;

  private constructor(layout: Layout, key: string, opts: FileStoreOptions) {
    super();
    this.dir = layout.root;
    this.#layout = layout;
    this.#key = key;
    this.#now = opts.now ?? Date.now;
    this.#ctx = { layout, backups: opts.backups ?? 5, hooks: opts.hooks ?? {} };
    this.#journal = new Journal(layout.journal);
    this.#checkpointCommits = opts.checkpointCommits ?? 64;
    this.#runsDir = opts.runsDir === undefined ? join(layout.troupe, 'runs') : resolve(opts.runsDir);
    this.#runsNamed = opts.runsDir !== undefined;
    this.#lockOpts = {
      dir: layout.root,
      staleMs: opts.lockStaleMs ?? 10_000,
      timeoutMs: opts.lockTimeoutMs ?? 15_000,
    };
  }

  /** Creates the layout if needed (a missing or existing directory is fine) and opens the store. */
  static async init(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    checkDir(dir);
    checkOptions(opts);
    const layout = new Layout(resolve(dir));
    assertNoLinks(layout);
    await createLayout(layout);
    return FileStore.open(layout.root, opts);
  }

  /**
   * Opens an existing store (NOT_A_TROUPE_DIRECTORY otherwise). A journal with records left in
   * it is replayed and checkpointed: the machine may have lost power since they were applied.
   */
  static async open(dir: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    checkDir(dir);
    checkOptions(opts);
    const layout = new Layout(resolve(dir));
    assertNoLinks(layout);
    await readMarker(layout);
    const store = new FileStore(layout, await realpath(layout.root), opts);
    if (await journalHasEntries(layout.journal)) {
      await store.#withLock(async () => {
        await finishJournal(store.#ctx, store.#journal, store.dir);
      });
    }
    return store;
  }

  /** The epoch a fenced run was claimed at since its fence's, if it was (see claimedSince). */
  async #claimedSince(fence: Fence): Promise<number | 'ended' | undefined> {
    try {
      return await claimedSince(this.#runsDir, fence.runId, fence.epoch, this.#runsNamed);
    } catch (e) {
      throw ioError(`read the leases of run ${fence.runId} in`, this.#runsDir, e);
    }
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

  #withLock<T>(fn: (lock: HeldLock) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withLock(
      this.#key,
      this.#layout.lock,
      signal ? { ...this.#lockOpts, signal } : this.#lockOpts,
      fn,
    );
  }

  /**
   * Reads one entity file from disk; VALIDATION_FAILED naming the file if it is not a valid
   * document. A stat decides whether the last decode of that file still holds: always from
   * disk, so other processes' writes are seen at once, without re-reading unchanged files.
   */
  async #read(kind: Kind, id: string): Promise<Read> {
    assertKind(kind);
    assertValidId(id, singular[kind]);
    const path = this.#layout.entity(kind, id);
    let text: string;
    let st: { ino: bigint; size: bigint; mtimeNs: bigint };
    try {
      // Synchronous on purpose: a stat and a small read cost microseconds, far less than a
      // round trip through the I/O thread pool, and a workflow makes dozens of them.
      // No exception for a missing file: a large bundle asks about thousands of new ids.
      const l = lstatSync(path, { bigint: true, throwIfNoEntry: false });
      if (l === undefined) return {};
      // An entity file that is a link is never read through: its target's content stays unseen.
      if (l.isSymbolicLink()) throw linkRefused(this.#layout, path, 'file', { kind, id });
      if (!l.isFile())
        throw notAFile(entityRel(kind, id), l.isDirectory() ? 'a folder' : 'a FIFO or device', { kind, id });
      st = l;
      const hit = this.#cache.get(path);
      if (hit && hit.ino === st.ino && hit.size === st.size && hit.mtimeNs === st.mtimeNs) {
        return { doc: cloneJson(hit.doc), text: hit.text };
      }
      if (st.size > BigInt(MAX_FILE_BYTES))
        throw invalidFiles([tooLarge(entityRel(kind, id), st.size)], { kind, id });
      const bytes = readFileSync(path);
      const decoded = utf8Text(bytes);
      if (!decoded.ok) throw invalidFiles([notUtf8(entityRel(kind, id), decoded.at)], { kind, id });
      text = decoded.text;
    } catch (e) {
      if (e instanceof TroupeError) throw e;
      if (errnoOf(e) === 'ENOENT') return {};
      throw ioError('read', path, e);
    }
    const d = decodeDoc(text, entityRel(kind, id), id, () => new Date(Number(st.mtimeNs / 1_000_000n)));
    if (!d.ok) throw invalidFiles([d.issue], { kind, id, file: d.issue.file });
    // Only cache what the stat describes: a file replaced between stat and read is read again next time.
    if (BigInt(Buffer.byteLength(text)) === st.size) {
      if (this.#cache.size >= READ_CACHE_SIZE) this.#cache.clear();
      this.#cache.set(path, { ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, doc: cloneJson(d.doc), text });
    }
    return { doc: d.doc, text };
  }

  /**
   * Before a read, if a commit of this store is in the journal but not yet in the files:
   * writes them now, or refuses the read (IO_ERROR) rather than show the files without it.
   */
  async #settled(): Promise<void> {
    this.#assertOpen();
    if (!this.#unapplied) return;
    try {
      await this.#withLock(async () => {
        if (!this.#unapplied) return;
        if (!(await this.#journal.inspect()).clean) await recover(this.#ctx, this.#journal);
        this.#unapplied = false;
      });
    } catch (e) {
      throw notApplied(this.dir, e);
    }
  }

  async get(kind: Kind, id: string): Promise<StoredDoc | undefined> {
    await this.#settled();
    return (await this.#read(kind, id)).doc;
  }

  async list(kind: Kind): Promise<StoredDoc[]> {
    await this.#settled();
    const entries = await this.scan(kind);
    const issues = entries.flatMap((e) => (e.error ? [e.error] : []));
    if (issues.length > 0) throw invalidFiles(issues, { kind });
    return entries.map((e) => e.doc!).sort(byId);
  }

  /**
   * The change feed of the directory: each document a commit (of any process) or a hand edit
   * writes or removes, as it happens. A directory keeps no history, so the feed starts now and
   * a `fromRevision` is answered with `relist` (see watchDirectory).
   */
  watch(opts: WatchOptions = {}): AsyncIterable<ChangeEvent | RelistEvent> {
    this.#assertOpen();
    return watchDirectory(this, (k) => this.#layout.kindDir(k), opts);
  }

  /**
   * Files in the kind folders that the store ignores (not `<id>.json`, not hidden): a YAML
   * file dropped there by hand, say. `troupe validate` reports them so they are not missed.
   */
  async strays(): Promise<Stray[]> {
    await this.#settled();
    const out: Stray[] = [];
    for (const k of KINDS) {
      let entries: Array<{ name: string; type: 'link' | 'other' | 'file' | 'folder' }>;
      try {
        entries = readdirSync(this.#layout.kindDir(k), { withFileTypes: true }).map((d) => ({
          name: d.name,
          type: d.isSymbolicLink()
            ? 'link'
            : d.isFile()
              ? 'file'
              : // Not a file at all (a FIFO, a socket, a device; a folder named like an entity).
                d.isDirectory() && !d.name.endsWith('.json')
                ? 'folder'
                : 'other',
        }));
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') continue;
        throw ioError('read the directory', this.#layout.kindDir(k), e);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const { name: n, type } of entries) {
        if (type === 'file' && (n === '.gitkeep' || isTempName(n) || entityIdFromFileName(n) !== undefined))
          continue;
        // Named as they can be printed: a file name may hold a terminal escape or a line break.
        out.push({ file: printable(`${k}/${n}`), why: strayWhy(n, type) });
      }
    }
    return out;
  }

  /**
   * Every `*.json` file of one kind folder (or all), each with its document or its problem;
   * never throws for a bad file, so a validator can report them all at once.
   */
  async scan(kind?: Kind): Promise<ScanEntry[]> {
    await this.#settled();
    if (kind !== undefined) assertKind(kind);
    return scanFolders(this.#layout, kind === undefined ? KINDS : [kind]);
  }

  /** All-or-nothing across kinds, and across processes: planned from disk under the lock. */
  commit(ops: BatchOp[], opts: CommitOptions = {}): Promise<CommitResult> {
    try {
      this.#assertOpen();
      throwIfCancelled(opts.signal);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#track(
      this.#withLock((lock) => this.#commitLocked(ops, lock, opts.signal, opts.fence), opts.signal),
    );
  }

  async #commitLocked(
    ops: BatchOp[],
    lock: HeldLock,
    signal: AbortSignal | undefined,
    fence: Fence | undefined,
  ): Promise<CommitResult> {
    const ctx = this.#ctx;
    const journal = this.#journal;
    let state = await journal.inspect();
    if (!state.clean) {
      // A commit that died in another process (or one of ours that failed): finish it first.
      await finishJournal(ctx, journal, this.dir, true);
      state = await journal.inspect();
    }
    // Under the lock: a takeover's claim lands wholly before this (refused) or after it (its
    // recovery's undo then waits for the lock, and finds this commit's writes).
    if (fence) checkFence(fence, await this.#claimedSince(fence));
    this.#unapplied = false;
    // The files the batch names are read at once (up to READ_AHEAD; any more on demand);
    // planning takes them in op order, so it reports the same first problem either way.
    const prefetched = new Map<string, Promise<Read>>();
    for (const op of ops) {
      if (prefetched.size >= READ_AHEAD) break;
      const id =
        op?.op === 'put'
          ? (op?.doc as { id?: unknown } | undefined)?.id
          : op?.op === 'absent'
            ? undefined
            : op?.id;
      if (typeof id !== 'string' || typeof op.kind !== 'string') continue;
      const key = keyOf(op.kind, id);
      if (prefetched.has(key)) continue;
      const read = this.#read(op.kind, id);
      read.catch(() => undefined);
      prefetched.set(key, read);
    }
    const reads = new Map<string, Read>();
    const { changes, result: planned } = await planBatch(
      ops,
      async (kind, id) => {
        const key = keyOf(kind, id);
        const r = await (prefetched.get(key) ?? this.#read(kind, id));
        reads.set(key, r);
        return r.doc;
      },
      this.#now,
      // Under the lock: what every readable file of a kind holds now, for "absent" guards.
      async (kind) => (await this.scan(kind)).flatMap((e) => (e.doc ? [e.doc] : [])),
    );
    const result = structuredClone(planned);
    if (changes.size === 0) return result;
    const pending: PendingChange[] = [...changes.entries()].map(([key, c]) => {
      const before = reads.get(key);
      const change: PendingChange = {
        kind: c.kind,
        id: c.id,
        prev: before?.doc?.revision ?? 0,
        doc: c.doc,
        before: before?.text,
      };
      // Nothing there as planned: a file that appears before it is placed is the user's.
      if (c.doc && before?.text === undefined) change.absent = true;
      return change;
    });
    assertBackupDirs(ctx, pending);
    await ctx.hooks.beforeCommitPoint?.();
    // The last moment the caller may still change its mind: after the journal, it is done.
    throwIfCancelled(signal);
    await lock.assertHeld();
    const seq = state.seq + 1;
    this.#wrote = true;
    await journal.commit(
      { type: 'commit', seq, changes: pending.map(({ before: _b, ...c }) => c) },
      state.size,
      ctx.hooks,
    );
    await ctx.hooks.afterJournal?.();
    try {
      await applyChanges(ctx, pending);
    } catch {
      // The journal already decides the outcome: finish it now if the disk allows, else later
      // (and until then this store's reads try again first, so none shows the files without it).
      this.#unapplied = true;
      try {
        await recover(ctx, journal);
      } catch (e) {
        throw notApplied(this.dir, e);
      }
      this.#unapplied = false;
      return result;
    }
    // Tells the next lock holder this commit needs no replay (without it, replaying changes nothing).
    await journal.note({ type: 'applied', seq }).catch(() => undefined);
    await ctx.hooks.afterApplied?.();
    await pruneAfter(ctx, pending);
    if (seq >= this.#checkpointCommits || state.size >= CHECKPOINT_BYTES) await this.#checkpoint();
    return result;
  }

  /**
   * Checkpoints under the lock. The commits are durable in the journal whatever happens here,
   * so a failure is not the caller's: the records stay, marked so that the next checkpoint
   * writes the files again rather than trusting a later sync, and that checkpoint runs as
   * soon as any process next takes the lock to commit.
   */
  async #checkpoint(): Promise<void> {
    try {
      await checkpoint(this.#ctx, this.#journal, parseJournal(await this.#journal.read()).entries);
    } catch {
      // Left to the next checkpoint, as described above.
    }
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

  /**
   * Waits for this store's commits in flight and, if it wrote any, checkpoints the journal so
   * its files are durable without it; later calls fail with USAGE.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    try {
      if (this.#wrote && (await journalHasEntries(this.#layout.journal))) {
        await this.#withLock(async () => {
          const state = await this.#journal.inspect();
          if (!state.clean) await finishJournal(this.#ctx, this.#journal, this.dir);
          else if (state.size > 0) {
            await checkpoint(this.#ctx, this.#journal, parseJournal(await this.#journal.read()).entries);
          }
        });
      }
    } finally {
      await this.#journal.close();
    }
  }
}
