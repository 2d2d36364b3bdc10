import { createHash } from 'node:crypto';
import { access, type FileHandle, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EntityId } from '../../domain/common.js';
import { KINDS, type Kind, type StoredDoc } from '../store.js';
import { fsyncDir, removeFile } from './atomic-write.js';
import { errnoOf, ioError } from './io.js';

/** One entity's final state in a commit, and the revision it replaced (0: it did not exist). */
export interface JournalChange {
  kind: Kind;
  id: string;
  prev: number;
  /** The document to write, or null to delete. */
  doc: StoredDoc | null;
}

const MAGIC = 'troupe-journal';
const VERSION = 1;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * One record, self-checking: a header line `troupe-journal 1 <body bytes> <sha256 of body>`
 * then the JSON body. A record cut short or damaged fails the length or checksum test.
 */
export function encodeJournal(changes: JournalChange[]): Buffer {
  const body = Buffer.from(JSON.stringify({ changes }), 'utf8');
  return Buffer.concat([Buffer.from(`${MAGIC} ${VERSION} ${body.length} ${sha256(body)}\n`, 'utf8'), body]);
}

const isChange = (c: unknown): c is JournalChange => {
  if (typeof c !== 'object' || c === null) return false;
  const { kind, id, prev, doc } = c as Record<string, unknown>;
  if (!KINDS.includes(kind as Kind) || !EntityId.safeParse(id).success) return false;
  if (!Number.isInteger(prev) || (prev as number) < 0) return false;
  if (doc === null) return true;
  if (typeof doc !== 'object' || doc === undefined) return false;
  const d = doc as Record<string, unknown>;
  return d.id === id && Number.isInteger(d.revision) && (d.revision as number) >= 1;
};

/** The record's changes, or undefined when it is incomplete or damaged (and must be discarded). */
export function decodeJournal(buf: Buffer): JournalChange[] | undefined {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return undefined;
  const [magic, version, length, sum, ...rest] = buf.subarray(0, nl).toString('utf8').split(' ');
  if (magic !== MAGIC || version !== String(VERSION) || rest.length > 0 || !/^\d+$/.test(length ?? '')) {
    return undefined;
  }
  const body = buf.subarray(nl + 1);
  if (body.length !== Number(length) || sha256(body) !== sum) return undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { changes?: unknown };
    if (!Array.isArray(parsed.changes) || !parsed.changes.every(isChange)) return undefined;
    return parsed.changes;
  } catch {
    return undefined;
  }
}

export interface JournalWriteHooks {
  /** Runs when only part of the record has been written (crash-injection point for tests). */
  journalPartial?: (() => void | Promise<void>) | undefined;
}

/**
 * Writes the record and makes it durable: fsync the file, then its directory so the name
 * exists after a power loss. Once this resolves the commit is decided.
 */
export async function writeJournal(path: string, changes: JournalChange[], hooks: JournalWriteHooks = {}) {
  const data = encodeJournal(changes);
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'w');
    if (hooks.journalPartial) {
      const half = Math.floor(data.length / 2);
      await fh.write(data, 0, half);
      await fh.sync();
      await hooks.journalPartial();
      await fh.write(data, half, data.length - half);
    } else {
      await fh.write(data);
    }
    await fh.sync();
  } catch (e) {
    throw ioError('write the journal', path, e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
  await fsyncDir(dirname(path));
}

/** `absent`: no journal; `damaged`: a journal that never finished being written; otherwise its changes. */
export async function readJournal(path: string): Promise<'absent' | 'damaged' | JournalChange[]> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 'absent';
    throw ioError('read the journal', path, e);
  }
  return decodeJournal(buf) ?? 'damaged';
}

export const removeJournal = (path: string) => removeFile(path);

export async function journalExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw ioError('check for the journal', path, e);
  }
}
