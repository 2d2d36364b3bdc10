import { readFile } from 'node:fs/promises';
import { isTroupeError, TroupeError, validationError } from '../../domain/errors.js';
import * as disk from '../../platform/disk.js';
import { readRegular } from '../../platform/read-regular.js';
import { KINDS } from '../store.js';
import { fsyncDir, removeTempFiles, writeFileAtomic } from './atomic-write.js';
import { errnoOf, ioError } from './io.js';
import { type Layout, STORE_FORMAT, TROUPE_DIR } from './layout.js';

const GITIGNORE =
  '# Written by troupe: local state that does not belong in version control.\nlock\nlock.breaking\njournal\nbackups/\nruns/\n';
/** What older versions wrote: brought up to date (run logs hold inputs, so they stay out of git). */
const OLD_GITIGNORE =
  '# Written by troupe: local state that does not belong in version control.\nlock\nlock.breaking\njournal\nbackups/\n';

/** Checks `.troupe/store.json`: NOT_A_TROUPE_DIRECTORY when absent, VALIDATION_FAILED when unusable. */
export async function readMarker(layout: Layout): Promise<void> {
  let text: string;
  try {
    text = await readRegular(layout.marker, 'utf8');
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new TroupeError(
        'NOT_A_TROUPE_DIRECTORY',
        `${layout.root} is not a troupe directory (no ${TROUPE_DIR}/store.json); run \`troupe init\` there to create one`,
        { context: { dir: layout.root } },
      );
    }
    throw ioError('read', layout.marker, e);
  }
  const file = `${TROUPE_DIR}/store.json`;
  let format: unknown;
  try {
    format = (JSON.parse(text) as { format?: unknown } | null)?.format;
  } catch {
    format = undefined;
  }
  if (format === STORE_FORMAT) return;
  const message =
    typeof format === 'number' && format > STORE_FORMAT
      ? `was written by a newer troupe (format ${format}); upgrade troupe to open this store`
      : `must be {"format": ${STORE_FORMAT}}`;
  throw validationError(`${file}: ${message}`, [{ file, path: 'format', message }], { dir: layout.root });
}

/**
 * Creates the folders, the marker and `.troupe/.gitignore` where missing; never touches data,
 * so running it on an existing store (or any directory) is safe.
 */
export async function createLayout(layout: Layout): Promise<void> {
  const dirs = [layout.root, layout.troupe, layout.backups, ...KINDS.map((k) => layout.kindDir(k))];
  for (const d of dirs) {
    try {
      await disk.mkdirDurable(d);
    } catch (e) {
      throw ioError('create', d, e);
    }
  }
  // What an interrupted init left (its writer is gone).
  await removeTempFiles(layout.troupe, true);
  try {
    await readMarker(layout);
  } catch (e) {
    if (!isTroupeError(e) || e.code !== 'NOT_A_TROUPE_DIRECTORY') throw e;
    await writeFileAtomic(layout.marker, `${JSON.stringify({ format: STORE_FORMAT }, null, 2)}\n`);
  }
  await disk.writeNewFile(layout.gitignore, GITIGNORE, 'wx').catch(async (e: unknown) => {
    if (errnoOf(e) !== 'EEXIST') throw ioError('write', layout.gitignore, e);
    if ((await readFile(layout.gitignore, 'utf8').catch(() => '')) === OLD_GITIGNORE)
      await writeFileAtomic(layout.gitignore, GITIGNORE);
  });
  // The write-ahead journal: created empty once, so commits append to a file that already exists.
  await disk.writeNewFile(layout.journal, '', 'wx').catch((e: unknown) => {
    if (errnoOf(e) !== 'EEXIST') throw ioError('create', layout.journal, e);
  });
  await fsyncDir(layout.troupe);
  await fsyncDir(layout.root);
}
