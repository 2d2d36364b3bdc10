import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crashPoint } from '../../platform/crash-points.js';
import * as disk from '../../platform/disk.js';
import { processAlive } from '../../platform/liveness.js';
import { errnoOf, ioError } from './io.js';
import { isTempName, tempPathFor, tempWriter } from './layout.js';

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
  {
    durable = true,
    blocking = true,
    replace = true,
  }: {
    durable?: boolean;
    blocking?: boolean;
    /**
     * False: put the file in place only where there is none (a link, then the temp file's
     * name removed), and leave a file that is there as it is. Answers whether it was placed.
     */
    replace?: boolean;
  } = {},
): Promise<boolean> {
  const tmp = tempPathFor(path);
  crashPoint('file:write', path);
  if (!durable && !blocking) {
    // Through the I/O thread pool: many such writes at once overlap, for large batches.
    try {
      await disk.writeNewFile(tmp, data, 'wx');
      crashPoint('file:written', path);
      return await place(tmp, path, replace);
    } catch (e) {
      await disk.unlink(tmp).catch(() => undefined);
      throw ioError('write', path, e);
    }
  }
  if (!durable) {
    // No fsync to wait for: two small synchronous calls beat four trips through the I/O pool.
    try {
      disk.writeNewFileSync(tmp, data, 'wx');
      crashPoint('file:written', path);
      return placeSync(tmp, path, replace);
    } catch (e) {
      await disk.unlink(tmp).catch(() => undefined);
      throw ioError('write', path, e);
    }
  }
  let fd: number | undefined;
  try {
    fd = await disk.open(tmp, 'wx');
    await disk.writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    await disk.sync(fd, 'file', path);
    const done = fd;
    fd = undefined;
    await disk.close(done);
    crashPoint('file:written', path);
    return await place(tmp, path, replace);
  } catch (e) {
    if (fd !== undefined) await disk.close(fd).catch(() => undefined);
    await disk.unlink(tmp).catch(() => undefined);
    throw ioError('write', path, e);
  }
}

/** The temp file `tmp` as `path`: renamed over it, or (not `replace`) linked where there is none. */
async function place(tmp: string, path: string, replace: boolean): Promise<boolean> {
  if (replace) {
    await disk.rename(tmp, path);
    crashPoint('file:renamed', path);
    return true;
  }
  const placed = await disk.link(tmp, path).then(
    () => true,
    (e: unknown) => {
      if (errnoOf(e) !== 'EEXIST') throw e;
      return false;
    },
  );
  crashPoint('file:renamed', path);
  await disk.unlink(tmp);
  return placed;
}

function placeSync(tmp: string, path: string, replace: boolean): boolean {
  if (replace) {
    disk.renameSync(tmp, path);
    crashPoint('file:renamed', path);
    return true;
  }
  let placed = true;
  try {
    disk.linkSync(tmp, path);
  } catch (e) {
    if (errnoOf(e) !== 'EEXIST') throw e;
    placed = false;
  }
  crashPoint('file:renamed', path);
  disk.unlinkSync(tmp);
  return placed;
}

/**
 * Runs `fn`, a write into `dir`; if `dir` does not exist, creates it (durably: a power loss
 * cannot take the folder back once a checkpoint has synced what is in it) and runs `fn` again.
 */
export async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (errnoOf(e instanceof Error ? e.cause : undefined) !== 'ENOENT') throw e;
    try {
      await disk.mkdirDurable(dir);
    } catch (m) {
      throw ioError('create', dir, m);
    }
    return fn();
  }
}

/** Flushes a file's content to disk; false when there is no such file. */
export async function syncFile(path: string): Promise<boolean> {
  let fd: number | undefined;
  try {
    fd = await disk.open(path, 'r+');
    await disk.sync(fd, 'file', path);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return false;
    throw ioError('sync', path, e);
  } finally {
    if (fd !== undefined) await disk.close(fd).catch(() => undefined);
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
  try {
    await disk.syncDir(path);
  } catch (e) {
    throw ioError('sync the directory', path, e);
  }
}

/** Removes a file; a file that is already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  crashPoint('file:remove', path);
  try {
    await disk.unlink(path);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw ioError('remove', path, e);
  }
  crashPoint('file:removed', path);
}

/**
 * Deletes temp files a crashed writer left in `dir`. Only safe while holding the store lock,
 * unless `deadOnly`: then only those whose writer (named in the file name) is not running.
 */
export async function removeTempFiles(dir: string, deadOnly = false): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 0;
    throw ioError('read the directory', dir, e);
  }
  const temps = names.filter((n) => {
    if (!isTempName(n)) return false;
    const pid = tempWriter(n);
    return !deadOnly || (pid !== undefined && pid !== process.pid && !processAlive(pid));
  });
  await Promise.all(temps.map((n) => removeFile(join(dir, n))));
  return temps.length;
}
