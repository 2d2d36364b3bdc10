import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Opened without waiting and without following a link: a FIFO put where troupe keeps a file of
 * its own (a lock, a journal, a run log) is refused at once, never read (a read would wait
 * forever for a writer).
 */
export const REGULAR_READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const FLAGS = REGULAR_READ_FLAGS;

/** The error of a name that is not a regular file; its `code` is `EFTYPE`. */
export const notRegular = (path: string, folder: boolean) =>
  Object.assign(
    new Error(`${path} is ${folder ? 'a folder' : 'not a regular file (a FIFO, a socket or a device)'}`),
    { code: 'EFTYPE', path },
  );

/** A regular file's bytes (or text); ENOENT when it is not there, EFTYPE when it is no regular file, ELOOP for a link. */
export async function readRegular(path: string): Promise<Buffer>;
export async function readRegular(path: string, encoding: 'utf8'): Promise<string>;
export async function readRegular(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const fh = await open(path, FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st.isDirectory());
    return encoding ? await fh.readFile(encoding) : await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** readRegular, synchronously (a tiny file on a commit's critical path). */
export function readRegularSync(path: string, encoding: 'utf8'): string {
  const fd = openSync(path, FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, st.isDirectory());
    return readFileSync(fd, encoding);
  } finally {
    closeSync(fd);
  }
}
