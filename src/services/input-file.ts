import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { TroupeError } from '../domain/errors.js';
import { MAX_FILE_BYTES } from '../domain/file-size.js';
import { firstInvalidByte } from '../domain/utf8.js';

/** The largest input file read (a bundle of ~100k entities); larger ones are refused unread. */
export const MAX_INPUT_BYTES = MAX_FILE_BYTES;

const refuse = (file: string, message: string, cause?: unknown) =>
  new TroupeError('VALIDATION_FAILED', `${file}: ${message}`, {
    ...(cause ? { cause } : {}),
    issues: [{ file, path: '(file)', message }],
  });

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  ELOOP: 'too many symbolic links',
};

/**
 * Reads a file a person wrote, with a bound: only a regular file of at most MAX_INPUT_BYTES,
 * valid UTF-8 (never silently turned into U+FFFD). `file` is the name as the user typed it.
 */
export async function readTextBounded(path: string, file: string = path): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // Without waiting: a FIFO with no writer (a name someone made with mkfifo) is refused below
    // at once, never waited on forever.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (st.isDirectory()) throw refuse(file, 'cannot read file (is a directory)');
    if (!st.isFile()) throw refuse(file, 'cannot read file (not a regular file)');
    if (st.size > MAX_INPUT_BYTES)
      throw refuse(file, `cannot read file (${st.size} bytes; at most ${MAX_INPUT_BYTES} are read)`);
    const bytes = await fh.readFile();
    if (bytes.length > MAX_INPUT_BYTES)
      throw refuse(file, `cannot read file (more than ${MAX_INPUT_BYTES} bytes)`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (e) {
      throw refuse(file, `is not valid UTF-8 (at byte ${firstInvalidByte(bytes)})`, e);
    }
  } catch (e) {
    if (e instanceof TroupeError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw refuse(file, `cannot read file (${REASONS[code] ?? code})`, e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
