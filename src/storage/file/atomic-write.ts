import { renameSync, writeFileSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crashPoint } from '../../platform/crash-points.js';
import { syncHandle } from '../../platform/durable.js';
import { errnoOf, ioError } from './io.js';
import { isTempName, tempPathFor } from './layout.js';

/**
 * Replaces `path` so that readers see either the old file or the whole new one, never a part:
 * write a hidden temp file in the same directory, then rename it over the target. With
 * `durable` (the default) the temp file is fsynced before the rename; without it the caller
 * makes the file durable later (see `syncFile`). Either way the caller fsyncs the directory
 * to make the rename itself durable.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  { durable = true, blocking = true }: { durable?: boolean; blocking?: boolean } = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  crashPoint('file:write', path);
  if (!durable && !blocking) {
    // Through the I/O thread pool: many such writes at once overlap, for large batches.
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      crashPoint('file:written', path);
      await rename(tmp, path);
      crashPoint('file:renamed', path);
      return;
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw ioError('write', path, e);
    }
  }
  if (!durable) {
    // No fsync to wait for: two small synchronous calls beat four trips through the I/O pool.
    try {
      writeFileSync(tmp, data, { flag: 'wx' });
      crashPoint('file:written', path);
      renameSync(tmp, path);
      crashPoint('file:renamed', path);
      return;
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw ioError('write', path, e);
    }
  }
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx');
    await fh.writeFile(data);
    if (durable) await syncHandle(fh, 'file', path);
    await fh.close();
    fh = undefined;
    crashPoint('file:written', path);
    await rename(tmp, path);
    crashPoint('file:renamed', path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw ioError('write', path, e);
  }
}

/** Runs `fn`, a write into `dir`; if `dir` does not exist, creates it and runs `fn` again. */
export async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (errnoOf(e instanceof Error ? e.cause : undefined) !== 'ENOENT') throw e;
    try {
      await mkdir(dir, { recursive: true });
    } catch (m) {
      throw ioError('create', dir, m);
    }
    return fn();
  }
}

/** Flushes a file's content to disk; false when there is no such file. */
export async function syncFile(path: string): Promise<boolean> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r+');
    await syncHandle(fh, 'file', path);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw ioError('sync', path, e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes a file's current content again through a new, fsynced file: used after a failed
 * sync, when the kernel may have given up on the old pages yet report the next sync clean.
 */
export async function rewriteFile(path: string): Promise<boolean> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw ioError('read', path, e);
  }
  await writeFileAtomic(path, data);
  return true;
}

/** Makes created, renamed and removed entries of a directory durable. */
export async function fsyncDir(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    await syncHandle(fh, 'dir', path);
  } catch (e) {
    // Some platforms cannot open or sync a directory; the data files themselves are synced.
    const code = errnoOf(e);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'ENOENT') {
      throw ioError('sync the directory', path, e);
    }
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Removes a file; a file that is already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  crashPoint('file:remove', path);
  try {
    await unlink(path);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw ioError('remove', path, e);
  }
  crashPoint('file:removed', path);
}

/** Deletes temp files a crashed writer left in `dir`. Only safe while holding the store lock. */
export async function removeTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 0;
    throw ioError('read the directory', dir, e);
  }
  const temps = names.filter(isTempName);
  await Promise.all(temps.map((n) => removeFile(join(dir, n))));
  return temps.length;
}
