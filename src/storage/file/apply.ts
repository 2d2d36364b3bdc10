import type { Kind } from '../store.js';
import { inDir, removeFile, writeFileAtomic } from './atomic-write.js';
import { pruneBackups, writeBackup } from './backups.js';
import { encodeDoc } from './codec.js';
import { mapLimit } from './io.js';
import type { JournalChange, JournalWriteHooks } from './journal.js';
import type { Layout } from './layout.js';
import { isLink, linkRefused } from './links.js';

/**
 * Points inside a commit where tests inject a crash (e.g. `process.kill(process.pid, 'SIGKILL')`).
 * Not for production use; recovery never calls them.
 */
export interface FileStoreHooks extends JournalWriteHooks {
  /** Under the lock, the batch planned, just before the store checks it still holds the lock. */
  beforeCommitPoint?: (() => void | Promise<void>) | undefined;
  /** The commit record is complete and durable; no entity file has changed yet. */
  afterJournal?: (() => void | Promise<void>) | undefined;
  /** `applied` entity files have been replaced or removed so far. */
  afterApply?: ((applied: number) => void | Promise<void>) | undefined;
  /** Every entity file is in its final state (not yet fsynced); the journal still holds the record. */
  afterApplied?: (() => void | Promise<void>) | undefined;
  /** A checkpoint has made `synced` of the journal's files durable so far. */
  checkpointSynced?: ((synced: number) => void | Promise<void>) | undefined;
  /** A checkpoint has made every file durable and is about to empty the journal. */
  beforeJournalTruncate?: (() => void | Promise<void>) | undefined;
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

/**
 * Whether a change keeps the version it replaces. Resolved files are derived from their agent
 * (re-composed by `troupe reconcile` at any time), so keeping old copies of them would only
 * double the writes of every cascade.
 */
const keepsBackup = (ctx: ApplyContext, c: PendingChange) =>
  c.before !== undefined && ctx.backups > 0 && c.kind !== 'resolved';

/**
 * Refuses, before anything is written, a commit whose backups would go through a symbolic link
 * (`.troupe/backups/<kind>/<id>` pointing elsewhere): pruning there would delete outside files.
 */
export function assertBackupDirs(ctx: ApplyContext, changes: PendingChange[]): void {
  for (const c of changes) {
    const dir = ctx.layout.backupDir(c.kind, c.id);
    if (keepsBackup(ctx, c) && isLink(dir)) throw linkRefused(ctx.layout, dir, 'folder');
  }
}

/** Files written at once: the size of Node's I/O thread pool; more only queue and contend. */
export const PARALLEL_WRITES = 4;

/**
 * Above this many files a commit writes through the I/O thread pool, several at once; below
 * it, a synchronous write costs less than the round trip (measured: 2,000 replaces take about
 * 0.75 s one by one and 0.45 s four at a time).
 */
export const OVERLAP_ABOVE = 32;

/**
 * Writes the entity file, creating its kind folder if it is missing (e.g. removed by hand).
 * Not `replace`: only where there is no file (see writeFileAtomic); answers whether it wrote.
 */
export const writeEntity = (
  layout: Layout,
  kind: Kind,
  path: string,
  text: string,
  { blocking = true, replace = true }: { blocking?: boolean; replace?: boolean } = {},
) => inDir(layout.kindDir(kind), () => writeFileAtomic(path, text, { durable: false, blocking, replace }));

/**
 * Brings every entity file to its final state: backs up what it replaces, then replaces it
 * through a temp file and a rename (or removes it), several at a time. Nothing is fsynced:
 * the durable commit record already decides the outcome, and a checkpoint syncs the files.
 */
export async function applyChanges(ctx: ApplyContext, changes: PendingChange[]): Promise<void> {
  const { layout, hooks } = ctx;
  let applied = 0;
  const blocking = changes.length <= OVERLAP_ABOVE;
  await mapLimit(changes, PARALLEL_WRITES, async (c) => {
    if (keepsBackup(ctx, c)) await writeBackup(layout, c.kind, c.id, c.prev, c.before!, blocking);
    const path = layout.entity(c.kind, c.id);
    const doc = c.doc;
    // A put planned where there was none never replaces a file written by hand meanwhile.
    if (doc) await writeEntity(layout, c.kind, path, encodeDoc(doc), { blocking, replace: !c.absent });
    else await removeFile(path);
    applied++;
    await hooks.afterApply?.(applied);
  });
}

/** Keeps only the newest backups of the entities whose previous version was just backed up. */
export async function pruneAfter(ctx: ApplyContext, changes: PendingChange[]): Promise<void> {
  await Promise.all(
    changes
      .filter((c) => keepsBackup(ctx, c))
      .map((c) => pruneBackups(ctx.layout, c.kind, c.id, ctx.backups)),
  );
}
