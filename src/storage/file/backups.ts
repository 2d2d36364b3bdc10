import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { scrubStoredText } from '../../domain/secrets.js';
import { readRegular } from '../../platform/read-regular.js';
import type { Kind, StoredDoc } from '../store.js';
import { inDir, removeFile, writeFileAtomic } from './atomic-write.js';
import { decodeDoc, invalidFiles } from './codec.js';
import { errnoOf, ioError } from './io.js';
import { backupRel, type Layout } from './layout.js';

/** One kept previous version of an entity: `.troupe/backups/<kind>/<id>/<revision>.json`. */
export interface BackupInfo {
  kind: Kind;
  id: string;
  revision: number;
  /** Path relative to the store directory. */
  file: string;
}

/** Revisions with a backup, newest first. */
async function revisions(layout: Layout, kind: Kind, id: string): Promise<number[]> {
  const dir = layout.backupDir(kind, id);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return [];
    throw ioError('read the backups in', dir, e);
  }
  return names
    .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
    .filter((r): r is string => r !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/**
 * Keeps the file's previous content (byte for byte, but for a secret in it) before it is overwritten or deleted. The
 * copy is not fsynced here: the checkpoint that makes the commit's files durable syncs it and
 * its folder too, and recovery removes a copy that a power loss left torn.
 */
export async function writeBackup(
  layout: Layout,
  kind: Kind,
  id: string,
  revision: number,
  /** The version's bytes as they were (a file edited by hand may not be UTF-8: kept as it is). */
  text: string | Uint8Array,
  blocking = true,
) {
  // A key pasted into the file by hand (refused there, and replaced) is not copied on: troupe
  // never writes a secret, a backup included.
  const kept = typeof text === 'string' ? scrubStoredText(text) : text;
  await inDir(layout.backupDir(kind, id), () =>
    writeFileAtomic(layout.backup(kind, id, revision), kept, { durable: false, blocking }),
  );
}

/**
 * Keeps the bytes of a file that does not parse at all (a write a power loss tore, or an edit
 * by hand mid-way) before recovery replaces it: `unreadable-<digest>.bak` beside the entity's
 * backups, named by its content (kept once however often recovery meets it), never pruned.
 * Returns its path.
 */
export async function keepUnreadable(
  layout: Layout,
  kind: Kind,
  id: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const path = join(layout.backupDir(kind, id), `unreadable-${digest}.bak`);
  await inDir(layout.backupDir(kind, id), () => writeFileAtomic(path, bytes, { durable: false }));
  return path;
}

/** Removes the backup of `revision` if it is not a valid document (torn by a power loss). */
export async function dropTornBackup(layout: Layout, kind: Kind, id: string, revision: number) {
  const path = layout.backup(kind, id, revision);
  let text: string;
  try {
    text = await readRegular(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return;
    throw ioError('read', path, e);
  }
  if (!decodeDoc(text, backupRel(kind, id, revision), id).ok) await removeFile(path);
}

/** Deletes all but the newest `keep` backups of an entity. */
export async function pruneBackups(layout: Layout, kind: Kind, id: string, keep: number) {
  const old = (await revisions(layout, kind, id)).slice(keep);
  await Promise.all(old.map((r) => removeFile(layout.backup(kind, id, r))));
}

export async function listBackups(layout: Layout, kind: Kind, id: string): Promise<BackupInfo[]> {
  return (await revisions(layout, kind, id)).map((revision) => ({
    kind,
    id,
    revision,
    file: backupRel(kind, id, revision),
  }));
}

export async function readBackup(
  layout: Layout,
  kind: Kind,
  id: string,
  revision: number,
): Promise<StoredDoc | undefined> {
  const path = layout.backup(kind, id, revision);
  let text: string;
  try {
    text = await readRegular(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw ioError('read', path, e);
  }
  const d = decodeDoc(text, backupRel(kind, id, revision), id);
  if (!d.ok) throw invalidFiles([d.issue], { kind, id, revision });
  return d.doc;
}
