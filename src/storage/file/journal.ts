import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { EntityId } from '../../domain/common.js';
import { TroupeError } from '../../domain/errors.js';
import { crashPoint } from '../../platform/crash-points.js';
import * as disk from '../../platform/disk.js';
import { readRegular } from '../../platform/read-regular.js';
import { KINDS, type Kind, type StoredDoc } from '../store.js';
import { fsyncDir } from './atomic-write.js';
import { errnoOf, ioError } from './io.js';

/** One entity's final state in a commit, and the revision it replaced (0: it did not exist). */
export interface JournalChange {
  kind: Kind;
  id: string;
  prev: number;
  /** The document to write, or null to delete. */
  doc: StoredDoc | null;
  /**
   * Set on a put planned where there was no file: one found there when it is applied was
   * written by hand meanwhile (without the lock), and is kept, never written over.
   */
  absent?: true;
}

/**
 * One entry of the write-ahead journal:
 * - `commit`: a whole batch; once it is durable the batch is committed;
 * - `applied`: every file of the commit just before it is in its final state (not fsynced);
 * - `resync`: a checkpoint failed, so the next one rewrites the files instead of only syncing them.
 */
export type JournalEntry =
  | { type: 'commit'; seq: number; changes: JournalChange[] }
  | { type: 'applied'; seq: number }
  | { type: 'resync' };

const MAGIC = 'troupe-journal';
const VERSION = 1;
/** Longest possible header line, so a damaged file is never scanned far for a newline. */
const MAX_HEADER = 128;
/** Bytes read from the end of the journal to find its last entry; an `applied` entry is ~100. */
const TAIL = 256;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const bodyOf = (e: JournalEntry) => {
  if (e.type === 'commit') return { seq: e.seq, changes: e.changes };
  if (e.type === 'applied') return { applied: e.seq };
  return { resync: true };
};

/**
 * One self-checking frame: a header line `troupe-journal 1 <body bytes> <sha256 of body>` then
 * the JSON body, which never contains a raw newline. A frame cut short or damaged fails the
 * length or checksum test; frames follow each other with nothing in between.
 */
export function encodeEntry(entry: JournalEntry): Buffer {
  const body = Buffer.from(JSON.stringify(bodyOf(entry)), 'utf8');
  return Buffer.concat([Buffer.from(`${MAGIC} ${VERSION} ${body.length} ${sha256(body)}\n`, 'utf8'), body]);
}

const isChange = (c: unknown): c is JournalChange => {
  if (typeof c !== 'object' || c === null) return false;
  const { kind, id, prev, doc, absent } = c as Record<string, unknown>;
  if (!KINDS.includes(kind as Kind) || !EntityId.safeParse(id).success) return false;
  if (!Number.isInteger(prev) || (prev as number) < 0) return false;
  if (absent !== undefined && (absent !== true || doc === null || prev !== 0)) return false;
  if (doc === null) return true;
  if (typeof doc !== 'object' || doc === undefined) return false;
  const d = doc as Record<string, unknown>;
  return d.id === id && Number.isInteger(d.revision) && (d.revision as number) >= 1;
};

const isSeq = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

function toEntry(parsed: unknown): JournalEntry | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  if (Array.isArray(o.changes)) {
    // A record without `seq` was left by a version that kept one commit per journal file.
    const seq = o.seq ?? 0;
    return isSeq(seq) && o.changes.every(isChange) ? { type: 'commit', seq, changes: o.changes } : undefined;
  }
  if (isSeq(o.applied)) return { type: 'applied', seq: o.applied };
  if (o.resync === true) return { type: 'resync' };
  return undefined;
}

/** The complete frame starting at `offset`, and where it ends; undefined if torn or damaged. */
export function decodeEntryAt(buf: Buffer, offset: number): { entry: JournalEntry; end: number } | undefined {
  const nl = buf.subarray(offset, offset + MAX_HEADER).indexOf(0x0a);
  if (nl < 0) return undefined;
  const [magic, version, length, sum, ...rest] = buf
    .subarray(offset, offset + nl)
    .toString('utf8')
    .split(' ');
  if (magic !== MAGIC || version !== String(VERSION) || rest.length > 0 || !/^\d+$/.test(length ?? '')) {
    return undefined;
  }
  const start = offset + nl + 1;
  const end = start + Number(length);
  if (end > buf.length) return undefined;
  const body = buf.subarray(start, end);
  if (sha256(body) !== sum) return undefined;
  try {
    const entry = toEntry(JSON.parse(body.toString('utf8')));
    return entry && { entry, end };
  } catch {
    return undefined;
  }
}

/**
 * Every complete entry from the start, in order, and the end of the last one. Anything after it
 * is a torn tail: an entry whose writer died (or lost power) before finishing it.
 */
export function parseJournal(buf: Buffer): { entries: JournalEntry[]; end: number } {
  const entries: JournalEntry[] = [];
  let end = 0;
  while (end < buf.length) {
    const next = decodeEntryAt(buf, end);
    if (!next) break;
    entries.push(next.entry);
    end = next.end;
  }
  return { entries, end };
}

/** The entry whose frame ends exactly at the end of `tail` (the last bytes of a journal), if any. */
export function lastEntry(tail: Buffer): JournalEntry | undefined {
  const at = tail.lastIndexOf(`${MAGIC} `);
  if (at < 0) return undefined;
  const found = decodeEntryAt(tail, at);
  return found && found.end === tail.length ? found.entry : undefined;
}

export interface JournalWriteHooks {
  /** Runs when only part of the record has been written (crash-injection point for tests). */
  journalPartial?: (() => void | Promise<void>) | undefined;
}

/** What the journal holds, as seen under the store lock. */
export interface JournalState {
  size: number;
  /** Sequence number of the last commit; 0 when empty. */
  seq: number;
  /** Empty, or ending with an `applied` entry: every commit in it has been applied. */
  clean: boolean;
}

const p = {
  read: promisify(fs.read),
  fstat: promisify(fs.fstat),
};

/** Descriptors of journals whose store was dropped without close(). */
const orphans = new FinalizationRegistry<number>((fd) => {
  try {
    disk.closeSync(fd);
  } catch {
    // Already closed.
  }
});

const { O_RDWR, O_APPEND, O_CREAT, O_EXCL } = fs.constants;

/**
 * The store's write-ahead journal, `.troupe/journal`: one long-lived file that every process
 * appends to (O_APPEND) while holding the store lock, and that a checkpoint empties in place.
 * Because the file stays, a commit only needs to fdatasync it, never its directory.
 */
export class Journal {
  #fd: number | undefined;
  #ino = -1;

  constructor(readonly path: string) {}

  async #open(create: boolean): Promise<number> {
    let fd: number;
    try {
      fd = await disk.open(this.path, O_RDWR | O_APPEND);
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT' || !create) throw ioError('open the journal', this.path, e);
      try {
        fd = await disk.open(this.path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0o644);
      } catch (e2) {
        throw ioError('create the journal', this.path, e2);
      }
      // A new file: its name must be durable before any commit relies on it.
      await fsyncDir(dirname(this.path));
    }
    this.#fd = fd;
    this.#ino = (await p.fstat(fd)).ino;
    orphans.register(this, fd, this);
    return fd;
  }

  async #drop(): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    orphans.unregister(this);
    await disk.close(fd).catch(() => undefined);
  }

  /** A descriptor on the file now at the path (reopened if the file was replaced). */
  async #current(create: boolean): Promise<{ fd: number; size: number } | undefined> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.path); // synchronous: checked on every commit, cheaper than the I/O pool
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw ioError('check the journal', this.path, e);
      await this.#drop();
      if (!create) return undefined;
      return { fd: await this.#open(true), size: 0 };
    }
    if (!st.isFile()) throw notAJournal(this.path, st.isDirectory());
    if (this.#fd === undefined || st.ino !== this.#ino) {
      await this.#drop();
      return { fd: await this.#open(create), size: st.size };
    }
    return { fd: this.#fd, size: st.size };
  }

  /**
   * Only under the store lock: reads the last entry to tell whether any commit may be
   * unfinished, and checks the descriptor that `commit` and `note` then use under that hold.
   */
  async inspect(): Promise<JournalState> {
    const cur = await this.#current(false);
    if (!cur || cur.size === 0) return { size: 0, seq: 0, clean: true };
    const n = Math.min(TAIL, cur.size);
    const tail = Buffer.alloc(n);
    try {
      await readFully(cur.fd, tail, cur.size - n);
    } catch (e) {
      throw ioError('read the journal', this.path, e);
    }
    const last = lastEntry(tail);
    return last?.type === 'applied'
      ? { size: cur.size, seq: last.seq, clean: true }
      : { size: cur.size, seq: 0, clean: false };
  }

  /** The whole journal; empty when there is none. */
  async read(): Promise<Buffer> {
    try {
      return await readRegular(this.path);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return Buffer.alloc(0);
      if (errnoOf(e) === 'EFTYPE') throw notAJournal(this.path, (e as Error).message.endsWith('a folder'));
      throw ioError('read the journal', this.path, e);
    }
  }

  /**
   * Appends a commit record and makes it durable (fdatasync). Once this resolves the commit is
   * decided. On failure the journal is cut back to `size`, so the record is never replayed.
   */
  async commit(entry: JournalEntry, size: number, hooks: JournalWriteHooks = {}): Promise<void> {
    const data = encodeEntry(entry);
    // inspect() checked the descriptor under this same hold of the lock (none: no file yet).
    const fd = this.#fd ?? (await this.#current(true))!.fd;
    crashPoint('journal:append');
    try {
      if (hooks.journalPartial) {
        const half = Math.floor(data.length / 2);
        await disk.writeAll(fd, data.subarray(0, half));
        await disk.sync(fd, 'journal', this.path, true);
        await hooks.journalPartial();
        await disk.writeAll(fd, data.subarray(half));
      } else {
        await disk.writeAll(fd, data);
      }
      crashPoint('journal:written', this.path);
      await disk.sync(fd, 'journal', this.path, true);
    } catch (e) {
      await disk
        .truncate(fd, size)
        .then(() => disk.sync(fd, 'journal', this.path))
        .catch(() => undefined);
      throw ioError('write the journal', this.path, e);
    }
  }

  /**
   * Appends an entry without waiting for the disk: a hint that only processes running since it
   * was written rely on (opening a store replays every record whatever the hints say).
   */
  async note(entry: JournalEntry): Promise<void> {
    const fd = this.#fd ?? (await this.#current(false))?.fd;
    if (fd === undefined) return;
    try {
      await disk.writeAll(fd, encodeEntry(entry));
    } catch (e) {
      throw ioError('write the journal', this.path, e);
    }
  }

  /** Cuts the journal to `length` bytes durably; 0 (the end of a checkpoint) empties it. */
  async truncate(length = 0): Promise<void> {
    const cur = await this.#current(false);
    if (!cur) return;
    crashPoint('journal:truncate');
    try {
      await disk.truncate(cur.fd, length);
      await disk.sync(cur.fd, 'journal', this.path);
    } catch (e) {
      throw ioError('truncate the journal', this.path, e);
    }
    crashPoint('journal:truncated');
  }

  async close(): Promise<void> {
    await this.#drop();
  }
}

async function readFully(fd: number, into: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < into.length) {
    const { bytesRead } = await p.read(fd, into, off, into.length - off, position + off);
    if (bytesRead === 0) throw new Error('the journal ended early');
    off += bytesRead;
  }
}

/** True when a journal file exists and is not empty (no lock needed to ask). */
export async function journalHasEntries(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw ioError('check for the journal', path, e);
  }
}

/**
 * Something put where the journal goes that is no file (a folder, a FIFO): it holds no commit,
 * so nothing is waiting to be finished; said as what it is, and the way out.
 */
function notAJournal(path: string, folder: boolean): TroupeError {
  return new TroupeError(
    'VALIDATION_FAILED',
    `${path} is ${folder ? 'a folder' : 'not a regular file (a FIFO, a socket or a device)'}, not troupe's journal: remove it (troupe makes the journal itself); nothing was read or written`,
    {
      issues: [
        {
          file: '.troupe/journal',
          path: '(file)',
          message: folder ? 'is a folder' : 'is not a regular file',
        },
      ],
      context: { path },
    },
  );
}
