import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { crashPoint } from './crash-points.js';

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);

/** What an fsync makes durable: the journal, an entity or backup file, a folder, a run log. */
export type Durable = 'journal' | 'file' | 'dir' | 'runlog';

/**
 * Every fsync troupe relies on goes through here and is a crash point (`synced:<what>`, with
 * the path traced), so a test can check each one happens, and in the order durability needs.
 */
export async function syncHandle(h: FileHandle, what: Durable, path: string): Promise<void> {
  await h.sync();
  crashPoint(`synced:${what}`, path);
}

/** The same for a raw descriptor; `dataOnly` is fdatasync (the size and data, not the times). */
export async function syncFd(fd: number, what: Durable, path: string, dataOnly = false): Promise<void> {
  await (dataOnly ? fdatasync(fd) : fsync(fd));
  crashPoint(`synced:${what}`, path);
}
