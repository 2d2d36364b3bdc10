import { readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { MAX_FILE_BYTES } from '../../domain/file-size.js';
import { utf8Text } from '../../domain/utf8.js';
import { notRegular, REGULAR_READ_FLAGS } from '../../platform/read-regular.js';
import type { Kind } from '../store.js';
import { decodeDoc, notUtf8, type ScanEntry, tooLarge } from './codec.js';
import { errnoOf, ioError, mapLimit } from './io.js';
import { entityIdFromFileName, type Layout } from './layout.js';

const READ_PARALLEL = 32;

/**
 * Reads every `*.json` file of the given kind folders (hidden and temp files are skipped), in
 * file-name order, each with its document or its first problem. Bad files never throw.
 */
export async function scanFolders(layout: Layout, kinds: readonly Kind[]): Promise<ScanEntry[]> {
  const out: ScanEntry[] = [];
  for (const k of kinds) {
    const dir = layout.kindDir(k);
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }) // synchronous: one small directory listing
        // Only regular files are entities: links are never followed, and a FIFO or device is
        // never opened (a read of a FIFO waits forever); strays() reports them.
        .filter((d) => d.isFile())
        .map((d) => d.name);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') continue;
      throw ioError('read the directory', dir, e);
    }
    // Editor backups and copies (`ada.orig.json`, `ada.json~`, `.DS_Store`) are not entities: see strays().
    const files = names.flatMap((n) => {
      const id = entityIdFromFileName(n);
      return id === undefined ? [] : [{ id, name: n }];
    });
    files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const read = await mapLimit(
      files,
      READ_PARALLEL,
      async ({ id, name }): Promise<ScanEntry | undefined> => {
        const file = `${k}/${name}`;
        let text: string;
        try {
          const bytes = await readBounded(layout.entity(k, id));
          if (typeof bytes === 'number') return { kind: k, file, id, error: tooLarge(file, bytes) };
          const decoded = utf8Text(bytes);
          if (!decoded.ok) return { kind: k, file, id, error: notUtf8(file, decoded.at) };
          text = decoded.text;
        } catch (e) {
          // Deleted since the folder was listed (a commit of another process): not there.
          if (errnoOf(e) === 'ENOENT') return undefined;
          const message = `could not read: ${e instanceof Error ? e.message : String(e)}`;
          return { kind: k, file, id, error: { file, path: '(root)', message } };
        }
        // The file's time is read only for a file written by hand (its dates stand in for metadata).
        const d = decodeDoc(text, file, id, () => statTime(layout.entity(k, id)));
        const entry: ScanEntry = { kind: k, file, id };
        if (d.raw !== undefined) entry.raw = d.ok ? structuredClone(d.raw) : d.raw;
        if (d.ok) entry.doc = d.doc;
        else entry.error = d.issue;
        return entry;
      },
    );
    for (const entry of read) if (entry) out.push(entry);
  }
  return out;
}

function statTime(path: string): Date | undefined {
  try {
    return statSync(path).mtime;
  } catch {
    return undefined;
  }
}

/** A file's bytes, or its size when it is larger than any troupe reads (then it is not read). */
async function readBounded(path: string): Promise<Buffer | number> {
  // Replaced by a FIFO or a link since the folder was listed: refused, never waited on.
  const fh = await open(path, REGULAR_READ_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, st.isDirectory());
    const { size } = st;
    return size > MAX_FILE_BYTES ? size : await fh.readFile();
  } finally {
    await fh.close();
  }
}
