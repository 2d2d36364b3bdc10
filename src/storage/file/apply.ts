import { mkdir, readFile } from 'node:fs/promises';
import { KINDS, type Kind } from '../store.js';
import { fsyncDir, removeFile, removeTempFiles, writeFileAtomic } from './atomic-write.js';
import { pruneBackups, writeBackup } from './backups.js';
import { decodeDoc, encodeDoc } from './codec.js';
import { errnoOf, ioError, mapLimit } from './io.js';
import { type JournalChange, type JournalWriteHooks, readJournal, removeJournal } from './journal.js';
import { entityRel, type Layout } from './layout.js';

/**
 * Points inside a commit where tests inject a crash (e.g. `process.kill(process.pid, 'SIGKILL')`).
 * Not for production use; recovery never calls them.
 */
export interface FileStoreHooks extends JournalWriteHooks {
  /** The journal is complete and durable; no entity file has changed yet. */
  afterJournal?: (() => void | Promise<void>) | undefined;
  /** `applied` entity files have been replaced or removed so far. */
  afterApply?: ((applied: number) => void | Promise<void>) | undefined;
  /** Every entity file is in its final state; the journal is still there. */
  beforeJournalRemove?: (() => void | Promise<void>) | undefined;
}

export interface ApplyContext {
  layout: Layout;
  /** How many previous versions to keep per entity; 0 keeps none. */
  backups: number;
  hooks: FileStoreHooks;
}

/** A journal change plus the text the file held before it (backed up before it is replaced). */
export interface PendingChange extends JournalChange {
  before?: string | undefined;
}

const PARALLEL_WRITES = 8;

/**
 * Brings every entity file to its final state: backs up what it replaces, writes the new file
 * atomically (or removes it), several at a time, then fsyncs each touched folder once.
 */
export async function applyChanges(ctx: ApplyContext, changes: PendingChange[]): Promise<void> {
  const { layout, hooks } = ctx;
  const kinds = [...new Set(changes.map((c) => c.kind))];
  await Promise.all(
    kinds.map((k) =>
      mkdir(layout.kindDir(k), { recursive: true }).catch((e: unknown) => {
        throw ioError('create', layout.kindDir(k), e);
      }),
    ),
  );
  let applied = 0;
  await mapLimit(changes, PARALLEL_WRITES, async (c) => {
    if (c.before !== undefined && ctx.backups > 0) await writeBackup(layout, c.kind, c.id, c.prev, c.before);
    const path = layout.entity(c.kind, c.id);
    if (c.doc) await writeFileAtomic(path, encodeDoc(c.doc));
    else await removeFile(path);
    applied++;
    await hooks.afterApply?.(applied);
  });
  await Promise.all(kinds.map((k) => fsyncDir(layout.kindDir(k))));
}

/** Keeps only the newest backups of the entities whose previous version was just backed up. */
export async function pruneAfter(ctx: ApplyContext, changes: PendingChange[]): Promise<void> {
  if (ctx.backups <= 0) return;
  await Promise.all(
    changes
      .filter((c) => c.before !== undefined)
      .map((c) => pruneBackups(ctx.layout, c.kind, c.id, ctx.backups)),
  );
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw ioError('read', path, e);
  }
}

/**
 * Which changes of a complete journal still need applying. A file already at the journal's
 * final state is done; one still at the previous revision (or unreadable) needs it. Anything
 * else means the journal is older than the files, so it is not replayed at all (undefined).
 */
async function outstanding(layout: Layout, changes: JournalChange[]): Promise<PendingChange[] | undefined> {
  const out: PendingChange[] = [];
  for (const c of changes) {
    const text = await readText(layout.entity(c.kind, c.id));
    let current: number | 'unreadable' = 0;
    if (text !== undefined) {
      const d = decodeDoc(text, entityRel(c.kind, c.id), c.id);
      current = d.ok ? d.doc.revision : 'unreadable';
    }
    const target = c.doc?.revision ?? 0;
    if (current === target) continue;
    if (current !== c.prev && current !== 'unreadable') return undefined;
    out.push({ ...c, before: text });
  }
  return out;
}

export type Recovery = 'none' | 'replayed' | 'discarded';

/**
 * Finishes or drops the work of a commit that did not complete. Call only while holding the
 * store lock: then any journal or temp file belongs to a writer that is gone. A complete
 * journal is replayed (all of the batch), a torn one discarded (none of it).
 */
export async function recover(ctx: ApplyContext): Promise<Recovery> {
  const { layout } = ctx;
  const journal = await readJournal(layout.journal);
  if (journal === 'absent') return 'none';
  const pending = journal === 'damaged' ? undefined : await outstanding(layout, journal);
  const quiet: ApplyContext = { ...ctx, hooks: {} };
  await Promise.all(KINDS.map((k: Kind) => removeTempFiles(layout.kindDir(k))));
  if (journal !== 'damaged') {
    await Promise.all(journal.map((c) => removeTempFiles(layout.backupDir(c.kind, c.id))));
  }
  if (pending) await applyChanges(quiet, pending);
  await removeJournal(layout.journal);
  await fsyncDir(layout.troupe);
  if (pending) await pruneAfter(quiet, pending);
  return pending ? 'replayed' : 'discarded';
}
