import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { crashPoint, injectedFault, recordDisk, recordingDisk } from './crash-points.js';

/**
 * The one way the file store and the run log change the disk: open, write, truncate, fsync,
 * rename, link, unlink, mkdir, close. Reads go straight to node:fs. With `TROUPE_DISK_LOG=FILE` every
 * change is recorded after it succeeds (a close before it starts), in order with the crash
 * points, so a test can replay it on a model of a disk and ask what a power loss at each point
 * would leave (see test/power). Off, each call costs one boolean check.
 */

const p = {
  open: promisify(fs.open),
  close: promisify(fs.close),
  write: promisify(fs.write),
  fsync: promisify(fs.fsync),
  fdatasync: promisify(fs.fdatasync),
  ftruncate: promisify(fs.ftruncate),
  rename: promisify(fs.rename),
  link: promisify(fs.link),
  unlink: promisify(fs.unlink),
  mkdir: promisify(fs.mkdir),
};

/** What an fsync makes durable: the journal, an entity or backup file, a folder, a run log. */
export type Durable = 'journal' | 'file' | 'dir' | 'runlog';

type Flags = string | number;
const { O_CREAT, O_TRUNC, O_APPEND, O_EXCL } = fs.constants;

/** How an open changes the disk: may create the file, empties it, writes go to its end. */
function effects(flags: Flags) {
  if (typeof flags === 'number')
    return {
      create: (flags & O_CREAT) !== 0,
      trunc: (flags & O_TRUNC) !== 0,
      append: (flags & O_APPEND) !== 0,
      excl: (flags & O_EXCL) !== 0,
    };
  return {
    create: /[wa]/.test(flags),
    trunc: flags.startsWith('w'),
    append: flags.startsWith('a'),
    excl: flags.includes('x'),
  };
}

const opened = (path: string, flags: Flags, fd: number) => {
  if (recordingDisk) recordDisk({ o: 'open', h: fd, p: path, ...effects(flags) });
  return fd;
};

export async function open(path: string, flags: Flags, mode?: number): Promise<number> {
  return opened(path, flags, await p.open(path, flags, mode));
}

export function openSync(path: string, flags: Flags, mode?: number): number {
  return opened(path, flags, fs.openSync(path, flags, mode));
}

const wrote = (fd: number, data: Uint8Array, off: number, n: number, at: number | null) => {
  if (recordingDisk)
    recordDisk({
      o: 'write',
      h: fd,
      at,
      d: Buffer.from(data.buffer, data.byteOffset + off, n).toString('base64'),
    });
  return n;
};

/** One write() of `data[off, off + len)` at `at` (null: the descriptor's position); bytes written. */
export async function write(
  fd: number,
  data: Uint8Array,
  off = 0,
  len = data.length - off,
  at: number | null = null,
): Promise<number> {
  return wrote(fd, data, off, (await p.write(fd, data, off, len, at)).bytesWritten, at);
}

export function writeSync(fd: number, data: Uint8Array, off = 0, len = data.length - off): number {
  return wrote(fd, data, off, fs.writeSync(fd, data, off, len), null);
}

/** Writes all of `data` at the descriptor's position: a nearly full disk may take a write in parts. */
export async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await write(fd, data, off);
}

export function writeAllSync(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
}

export async function truncate(fd: number, length: number): Promise<void> {
  await p.ftruncate(fd, length);
  if (recordingDisk) recordDisk({ o: 'truncate', h: fd, n: length });
}

/**
 * Every fsync troupe relies on goes through here and is a crash point (`synced:<what>`, with
 * the path traced), so a test can check each one happens, and in the order durability needs.
 * `dataOnly` is fdatasync (the size and data, not the times).
 */
export async function sync(fd: number, what: Durable, path: string, dataOnly = false): Promise<void> {
  if (injectedFault(`sync:${what}`))
    throw Object.assign(new Error(`EIO: i/o error, fsync '${path}' (injected)`), { code: 'EIO', errno: -5 });
  await (dataOnly ? p.fdatasync(fd) : p.fsync(fd));
  if (recordingDisk) recordDisk({ o: 'sync', h: fd });
  crashPoint(`synced:${what}`, path);
}

export async function close(fd: number): Promise<void> {
  if (recordingDisk) recordDisk({ o: 'close', h: fd });
  await p.close(fd);
}

export function closeSync(fd: number): void {
  if (recordingDisk) recordDisk({ o: 'close', h: fd });
  fs.closeSync(fd);
}

export async function rename(from: string, to: string): Promise<void> {
  await p.rename(from, to);
  if (recordingDisk) recordDisk({ o: 'rename', a: from, b: to });
}

export function renameSync(from: string, to: string): void {
  fs.renameSync(from, to);
  if (recordingDisk) recordDisk({ o: 'rename', a: from, b: to });
}

/** A second name for a file, refused (EEXIST) where `to` exists: a rename that never replaces. */
export async function link(from: string, to: string): Promise<void> {
  await p.link(from, to);
  if (recordingDisk) recordDisk({ o: 'link', a: from, b: to });
}

export function linkSync(from: string, to: string): void {
  fs.linkSync(from, to);
  if (recordingDisk) recordDisk({ o: 'link', a: from, b: to });
}

export async function unlink(path: string): Promise<void> {
  await p.unlink(path);
  if (recordingDisk) recordDisk({ o: 'unlink', p: path });
}

export function unlinkSync(path: string): void {
  fs.unlinkSync(path);
  if (recordingDisk) recordDisk({ o: 'unlink', p: path });
}

/** mkdir -p; the outermost folder it created, if any. */
export async function mkdirp(path: string): Promise<string | undefined> {
  const first = await p.mkdir(path, { recursive: true });
  if (recordingDisk && first) recordDisk({ o: 'mkdir', p: path, first });
  return first;
}

const NO_DIR_SYNC = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOENT']);

/**
 * Makes created, renamed and removed entries of a folder durable. Where a platform cannot open
 * or fsync a folder, nothing is done (the files themselves are synced); other errors are thrown.
 */
export async function syncDir(path: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await open(path, 'r');
    await sync(fd, 'dir', path);
  } catch (e) {
    if (!NO_DIR_SYNC.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    if (fd !== undefined) await close(fd).catch(() => undefined);
  }
}

/** mkdir -p whose new folders are durable: the parent of each one it created is fsynced. */
export async function mkdirDurable(path: string): Promise<void> {
  const first = await mkdirp(path);
  if (!first) return;
  const made = [first];
  for (let d = path; d !== first && d.length > first.length; d = dirname(d)) made.push(d);
  await Promise.all([...new Set(made)].map((d) => syncDir(dirname(d))));
}

/**
 * Writes a whole new file (`wx`: refused when it exists; `w`: replaces its content); fsynced
 * before it is closed when `durable` says what it is.
 */
export async function writeNewFile(
  path: string,
  data: string | Uint8Array,
  flags: 'wx' | 'w',
  durable?: Durable,
): Promise<void> {
  const fd = await open(path, flags);
  try {
    try {
      await writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
      if (durable) await sync(fd, durable, path);
    } finally {
      await close(fd);
    }
  } catch (e) {
    // A file this call created (`wx`) and could not fill (a full disk) is not left behind empty.
    if (flags === 'wx') await unlink(path).catch(() => undefined);
    throw e;
  }
}

export function writeNewFileSync(path: string, data: string | Uint8Array, flags: 'wx' | 'w'): void {
  const fd = openSync(path, flags);
  try {
    try {
      writeAllSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (flags === 'wx') {
      try {
        unlinkSync(path);
      } catch {
        // gone already
      }
    }
    throw e;
  }
}
