import { chmodSync, linkSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TroupeError } from '../domain/errors.js';
import { currentHolder, type Holder, holderState } from '../platform/holder.js';
import { readRegularSync } from '../platform/read-regular.js';

/** A takeover lock older than this was left by a process that died taking over. */
const TAKEOVER_STALE_MS = 10_000;

const unlinkQuietly = (file: string) => {
  try {
    unlinkSync(file);
  } catch {}
};

const readQuietly = (file: string): string | undefined => {
  try {
    return readRegularSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Creates `file` holding `text`, whole or not at all (a link of a file written first: a reader
 * never sees it empty). False when it exists.
 */
function createWhole(file: string, text: string): boolean {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temp, text, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkQuietly(temp);
  }
}

/**
 * Removes the lock file if it still holds `seen` (what was judged a dead holder's), one taker
 * at a time: two that judged the same dead holder never remove each other's new lock.
 */
function removeIfStill(file: string, seen: string | undefined): void {
  const takeover = `${file}.takeover`;
  if (!createWhole(takeover, String(process.pid))) {
    // Another process is taking over (or died doing it, long ago).
    try {
      if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkQuietly(takeover);
    } catch {}
    return;
  }
  try {
    if (readQuietly(file) === seen) unlinkQuietly(file);
  } finally {
    unlinkQuietly(takeover);
  }
}

/**
 * PGlite takes one process at a time and locks nothing itself: a second process opening the
 * same directory would corrupt it. This lock file (created whole and exclusively, naming its
 * process) refuses the second one with LOCK_FAILED; one a dead process left is taken over.
 * Released only while it is still this process's.
 */
export function lockPgliteDir(dir: string): () => void {
  // PGlite writes its files readable and writable by anyone (0666): the directory is kept to
  // its owner, as PostgreSQL keeps its data directory.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, 'troupe.lock');
  const mine = JSON.stringify({ ...currentHolder(), token: Math.random().toString(36).slice(2) });
  for (let tries = 0; tries < 3; tries++) {
    if (createWhole(file, mine))
      return () => {
        if (readQuietly(file) === mine) unlinkQuietly(file);
      };
    const text = readQuietly(file);
    let holder: Holder | undefined;
    try {
      holder = text === undefined ? undefined : (JSON.parse(text) as Holder);
    } catch {}
    // Gone meanwhile (released): try again. Unreadable as a holder: no process of troupe's.
    if (text === undefined) continue;
    const state = holder ? holderState(holder) : 'dead';
    if (state === 'dead') {
      removeIfStill(file, text);
      continue;
    }
    throw new TroupeError(
      'LOCK_FAILED',
      `pglite:${dir} is open in ${state === 'self' ? 'this process' : `process ${holder?.pid} on ${holder?.host}`}: PGlite serves one process at a time (a server wants postgres://…)`,
      { retryable: false, context: { dir, holder } },
    );
  }
  throw new TroupeError('LOCK_FAILED', `pglite:${dir}: could not take its lock`, { context: { dir } });
}
