import { readRegular } from '../../platform/read-regular.js';
import { keyOf } from '../batch.js';
import { KINDS, type StoredDoc } from '../store.js';
import { type ApplyContext, PARALLEL_WRITES, writeEntity } from './apply.js';
import { fsyncDir, removeFile, removeTempFiles, rewriteFile, syncFile } from './atomic-write.js';
import { dropTornBackup, keepUnreadable, pruneBackups, writeBackup } from './backups.js';
import { decodeDoc, encodeDoc } from './codec.js';
import { errnoOf, ioError, mapLimit } from './io.js';
import { type Journal, type JournalChange, type JournalEntry, parseJournal } from './journal.js';
import { entityRel } from './layout.js';

const commitsOf = (entries: JournalEntry[]) =>
  entries.flatMap((e) => (e.type === 'commit' ? [e.changes] : []));

/**
 * Makes every file the journal's commits wrote durable, then empties the journal: fsync each
 * entity file and backup they wrote (or, after a failed checkpoint, write it again through a
 * fsynced file), then each folder they changed (backup folders included), then truncate the
 * journal durably. A crash
 * before the truncation leaves the records, which recovery replays (a no-op) and checkpoints
 * again. Call only while holding the store lock.
 */
export async function checkpoint(
  ctx: ApplyContext,
  journal: Journal,
  entries: JournalEntry[],
  extraFiles: Iterable<string> = [],
): Promise<void> {
  const { layout, hooks } = ctx;
  const rewrite = entries.some((e) => e.type === 'resync');
  const files = new Set(extraFiles);
  // The root too, in case a kind folder removed by hand had to be created again.
  const dirs = new Set<string>([layout.root]);
  for (const c of commitsOf(entries).flat()) {
    dirs.add(layout.kindDir(c.kind));
    if (c.doc) files.add(layout.entity(c.kind, c.id));
    // Written when the commit replaced an existing version (the store's backup setting may differ
    // per process); its folder too, or a power loss could leave the backup's temp file instead.
    if (c.prev > 0) {
      files.add(layout.backup(c.kind, c.id, c.prev));
      dirs.add(layout.backupDir(c.kind, c.id));
    }
  }
  try {
    let synced = 0;
    await mapLimit([...files], PARALLEL_WRITES, async (path) => {
      await (rewrite ? rewriteFile(path) : syncFile(path));
      synced++;
      await hooks.checkpointSynced?.(synced);
    });
    await Promise.all([...dirs].map((d) => fsyncDir(d)));
    await hooks.beforeJournalTruncate?.();
    await journal.truncate();
  } catch (e) {
    // After a failed sync the kernel may report the next one clean without having written the
    // pages: have whichever checkpoint comes next write the files again instead.
    if (!rewrite) await journal.note({ type: 'resync' }).catch(() => undefined);
    throw e;
  }
}

export type OnDisk = { state: 'missing' } | { state: 'unreadable' } | { state: 'doc'; revision: number };

async function readText(path: string): Promise<string | undefined> {
  return (await readBytes(path))?.toString('utf8');
}

async function readBytes(path: string): Promise<Buffer | undefined> {
  try {
    return await readRegular(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw ioError('read', path, e);
  }
}

/**
 * Runs one file through its changes in journal order, in memory, with idempotent rules: a put
 * applies to a missing, unreadable (torn, zero-length) or lower-revision file and is skipped
 * when the file is already at or past it; a delete applies to a file at or below the revision
 * it replaced. Because every commit was planned against the one before it, this ends in the
 * last committed state from any state a crash can leave: the file's state before any of the
 * records, after any prefix of them, torn, or missing. A file edited by hand since (same or
 * higher revision) is left alone, and so is one written by hand where a put was planned on no
 * file (it came after the plan). Returns the final state (undefined: leave the file as it is).
 */
export function finalState(current: OnDisk, changes: JournalChange[]): StoredDoc | null | undefined {
  let now = current;
  let target: StoredDoc | null | undefined;
  for (const c of changes) {
    if (c.doc) {
      // Planned where there was no file, and a file written by hand is there: it came after.
      if (c.absent && now.state === 'doc' && now.revision === 0) continue;
      if (now.state !== 'doc' || now.revision < c.doc.revision) {
        now = { state: 'doc', revision: c.doc.revision };
        target = c.doc;
      }
    } else if (now.state === 'unreadable' || (now.state === 'doc' && now.revision <= c.prev)) {
      now = { state: 'missing' };
      target = null;
    }
  }
  return target;
}

/**
 * Whether the file is one written by hand after the commit deleted an earlier one written by
 * hand (both revision 0, so revisions cannot tell them apart): the delete backed up the text
 * it removed, and this is not that text. Such a file is the user's, left as it is.
 */
async function writtenByHandSince(
  layout: ApplyContext['layout'],
  changes: JournalChange[],
  current: OnDisk,
  text: string | undefined,
): Promise<boolean> {
  if (current.state !== 'doc' || current.revision !== 0) return false;
  if (!changes.every((c) => c.doc === null && c.prev === 0)) return false;
  const { kind, id } = changes[0]!;
  const deleted = await readText(layout.backup(kind, id, 0));
  return deleted !== undefined && deleted !== text;
}

/**
 * A file that parses but that the store refuses to read (a key given twice, a control
 * character: written by hand) is a document all the same, at the revision it says (0 without
 * one), so it is kept or backed up like any other; only what does not parse at all (torn,
 * zero-length) is unreadable.
 */
function parsed(raw: unknown): OnDisk {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { state: 'unreadable' };
  const r = (raw as { revision?: unknown }).revision;
  return { state: 'doc', revision: typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 0 };
}

/**
 * Brings every file the commits touched to its final state, writing each at most once (so a
 * reader never sees it go back to an older state on the way). Backs up what it replaces and
 * removes backups a power loss tore. Returns the backups it wrote, to be made durable.
 */
async function replay(ctx: ApplyContext, commits: JournalChange[][]): Promise<string[]> {
  const { layout } = ctx;
  const byFile = new Map<string, JournalChange[]>();
  for (const c of commits.flat()) {
    const key = keyOf(c.kind, c.id);
    const list = byFile.get(key);
    if (list) list.push(c);
    else byFile.set(key, [c]);
  }
  const written: string[] = [];
  await mapLimit([...byFile.values()], PARALLEL_WRITES, async (changes) => {
    const { kind, id } = changes[0]!;
    for (const prev of new Set(changes.map((c) => c.prev).filter((r) => r > 0))) {
      await dropTornBackup(layout, kind, id, prev);
    }
    const path = layout.entity(kind, id);
    // Read as bytes: a file edited by hand that is not UTF-8 is backed up as it is, not as the
    // U+FFFD a decode would make of it.
    const bytes = await readBytes(path);
    const text = bytes?.toString('utf8');
    let current: OnDisk = { state: 'missing' };
    if (text !== undefined) {
      const d = decodeDoc(text, entityRel(kind, id), id);
      current = d.ok ? { state: 'doc', revision: d.doc.revision } : parsed(d.raw);
    }
    if (await writtenByHandSince(layout, changes, current, text)) return;
    const target = finalState(current, changes);
    if (target === undefined) return;
    if (target === null ? text === undefined : text === encodeDoc(target)) return;
    if (current.state === 'doc' && ctx.backups > 0) {
      await writeBackup(layout, kind, id, current.revision, bytes!);
      await pruneBackups(layout, kind, id, ctx.backups);
      written.push(layout.backup(kind, id, current.revision));
    }
    // Bytes that do not parse: torn by a power loss, or an edit by hand made just then, which
    // only its writer can tell apart. Kept, whatever the backup setting: never lost unasked.
    if (current.state === 'unreadable' && bytes && bytes.length > 0)
      written.push(await keepUnreadable(layout, kind, id, bytes));
    if (target) await writeEntity(layout, kind, path, encodeDoc(target));
    else await removeFile(path);
  });
  return written;
}

/**
 * Finishes whatever the journal holds. Call only while holding the store lock: then any
 * unfinished commit or temp file belongs to a writer that is gone. Every complete commit
 * record is replayed, in order (all of each batch); a torn record at the end, whose commit
 * never resolved, is discarded (none of it); then a checkpoint makes it all durable and
 * empties the journal. Safe to run again at any point if it is itself interrupted.
 */
export async function recover(ctx: ApplyContext, journal: Journal): Promise<void> {
  const { layout } = ctx;
  const buf = await journal.read();
  if (buf.length === 0) return;
  const { entries, end } = parseJournal(buf);
  // A torn record never committed: cut it off, so anything appended later can be read.
  if (end < buf.length) await journal.truncate(end);
  const commits = commitsOf(entries);
  const quiet: ApplyContext = { ...ctx, hooks: {} };
  await Promise.all(KINDS.map((k) => removeTempFiles(layout.kindDir(k))));
  await Promise.all(commits.flat().map((c) => removeTempFiles(layout.backupDir(c.kind, c.id))));
  const written = await replay(quiet, commits);
  await checkpoint(quiet, journal, entries, written);
}
