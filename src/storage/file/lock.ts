import { randomUUID } from 'node:crypto';
import { fstatSync, lstatSync, statSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TroupeError, throwIfCancelled } from '../../domain/errors.js';
import { crashPoint } from '../../platform/crash-points.js';
import * as disk from '../../platform/disk.js';
import { currentHolder, type Holder, holderState } from '../../platform/holder.js';
import { bootedAt } from '../../platform/liveness.js';
import { readRegularSync } from '../../platform/read-regular.js';
import { errnoOf, ioError } from './io.js';

/** Who holds a lock file; written into it so others can tell a live holder from a dead one. */
interface Owner extends Holder {
  token: string;
  since: number;
}

/** Shared by every copy of this module loaded in the process, so they agree on what is held. */
interface Registry {
  chains: Map<string, Promise<void>>;
  held: Set<string>;
}
const REGISTRY = Symbol.for('troupe.file-store.locks');
const slot = globalThis as Record<symbol, Registry | undefined>;
slot[REGISTRY] ??= { chains: new Map<string, Promise<void>>(), held: new Set<string>() };
const registry: Registry = slot[REGISTRY];

/**
 * Runs `fn` after every earlier call with the same key has settled: commits of all stores on
 * one directory in this process take turns, so the file lock is only contended across processes.
 */
export function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = registry.chains.get(key) ?? Promise.resolve();
  const run = prev.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  registry.chains.set(key, tail);
  void tail.then(() => {
    if (registry.chains.get(key) === tail) registry.chains.delete(key);
  });
  return run;
}

export interface LockOptions {
  /** The store directory, for messages. */
  dir: string;
  /** A lock whose holder cannot be checked is taken over when untouched this long. */
  staleMs: number;
  /** Give up with LOCK_FAILED after waiting this long. */
  timeoutMs: number;
  /** Give up with CANCELLED as soon as it aborts (Ctrl-C while another writer holds the lock). */
  signal?: AbortSignal;
}

interface Seen {
  owner: Owner | undefined;
  mtimeMs: number;
  stale: boolean;
}

/**
 * A lock that names no holder (empty, cut short, garbage) is taken over once untouched this
 * long. Troupe writes its lock in the same turn it creates it, so only a process killed in
 * between, a power loss or a hand leaves one; a stalled creator that writes it later finds
 * the lock taken over and commits nothing (HeldLock.assertHeld).
 */
const UNREADABLE_STALE_MS = 1_000;

async function inspect(path: string, staleMs: number): Promise<Seen | undefined> {
  let text: string;
  let mtimeMs: number;
  try {
    // Synchronous: a tiny file read under a commit's critical path; the I/O pool costs more.
    text = readRegularSync(path, 'utf8');
    ({ mtimeMs } = statSync(path));
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw ioError('read the lock', path, e);
  }
  let owner: Owner | undefined;
  try {
    const o = JSON.parse(text) as Owner;
    if (Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.token === 'string') owner = o;
  } catch {
    // Empty while its creator is still writing it, or damaged: judged by age alone (see UNREADABLE_STALE_MS).
  }
  let stale: boolean;
  const state = owner && holderState(owner);
  if (owner && state !== 'elsewhere') {
    // Same machine: the holder's liveness is known exactly, so a killed process frees the lock at once.
    // Another process: alive, not a zombie, and not a reused pid (start times compared).
    stale = state === 'self' ? !registry.held.has(owner.token) : state === 'dead';
  } else {
    // Unknown holder: by age (a short one when it names none), and at once when written before
    // this machine last started (an empty or torn lock a power loss left; its writer died with
    // the machine).
    const age = Date.now() - mtimeMs;
    stale = owner ? age > staleMs : age > Math.min(staleMs, UNREADABLE_STALE_MS) || mtimeMs < bootedAt();
  }
  return { owner, mtimeMs, stale };
}

async function createExclusive(path: string, owner: Owner): Promise<boolean> {
  let fd: number;
  try {
    // Synchronous: one tiny exclusive create, far cheaper than three trips through the I/O pool.
    fd = disk.openSync(path, 'wx');
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw ioError('create the lock', path, e);
  }
  try {
    disk.writeAllSync(fd, Buffer.from(JSON.stringify(owner)));
    disk.closeSync(fd);
    return true;
  } catch (e) {
    // A full disk: the file is ours (created just now) but empty or cut short. Left behind it
    // would be judged by age and block every writer until it turned stale: remove it at once,
    // unless it is no longer the file we created.
    try {
      const ours = fstatSync(fd).ino;
      disk.closeSync(fd);
      if (lstatSync(path).ino === ours) disk.unlinkSync(path);
    } catch {
      // Already closed or gone.
    }
    throw ioError('create the lock', path, e);
  }
}

const newOwner = (): Owner => ({ ...currentHolder(), token: randomUUID(), since: Date.now() });

/**
 * Removes a stale lock, guarded by a second lock file so two processes that both saw the same
 * stale lock cannot remove each other's fresh one. True when the stale lock is gone.
 */
async function breakStale(path: string, seen: Seen, staleMs: number): Promise<boolean> {
  const guardPath = `${path}.breaking`;
  const guard = newOwner();
  registry.held.add(guard.token);
  try {
    if (!(await createExclusive(guardPath, guard))) {
      const other = await inspect(guardPath, staleMs);
      if (other?.stale) await disk.unlink(guardPath).catch(() => undefined);
      return false;
    }
    try {
      const now = await inspect(path, staleMs);
      if (!now) return true;
      const same = now.owner?.token === seen.owner?.token && (seen.owner || now.mtimeMs === seen.mtimeMs);
      if (!same || !now.stale) return false;
      await disk.unlink(path).catch((e: unknown) => {
        if (errnoOf(e) !== 'ENOENT') throw ioError('remove the stale lock', path, e);
      });
      return true;
    } finally {
      await disk.unlink(guardPath).catch(() => undefined);
    }
  } finally {
    registry.held.delete(guard.token);
  }
}

/** A held inter-process lock: keeps its file fresh while held and removes it only if still its own. */
export class HeldLock {
  #lost = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    readonly owner: Owner,
    private readonly opts: LockOptions,
  ) {
    this.#timer = setInterval(
      () => {
        const t = new Date();
        utimes(path, t, t).catch(() => {
          this.#lost = true;
        });
      },
      Math.max(50, Math.floor(opts.staleMs / 3)),
    );
    this.#timer.unref();
  }

  /** Throws LOCK_FAILED if another process has taken the lock over (e.g. after a long stall). */
  async assertHeld(): Promise<void> {
    const seen = this.#lost ? undefined : await inspect(this.path, this.opts.staleMs);
    if (!seen || seen.owner?.token !== this.owner.token) {
      throw new TroupeError(
        'LOCK_FAILED',
        `lost the lock on the troupe store at ${this.opts.dir}; nothing was written`,
        {
          context: { dir: this.opts.dir },
        },
      );
    }
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    crashPoint('lock:release');
    try {
      const seen = await inspect(this.path, this.opts.staleMs);
      if (seen?.owner?.token === this.owner.token) await disk.unlink(this.path);
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw ioError('release the lock', this.path, e);
    } finally {
      registry.held.delete(this.owner.token);
    }
  }
}

/** Takes the lock file at `path`, waiting (with backoff) up to `timeoutMs`; stale locks are broken. */
export async function acquireLock(path: string, opts: LockOptions): Promise<HeldLock> {
  const owner = newOwner();
  const deadline = Date.now() + opts.timeoutMs;
  let delay = 1;
  registry.held.add(owner.token);
  try {
    for (;;) {
      throwIfCancelled(opts.signal);
      if (await createExclusive(path, owner)) {
        crashPoint('lock:taken');
        return new HeldLock(path, owner, opts);
      }
      const seen = await inspect(path, opts.staleMs);
      if (!seen) continue;
      if (seen.stale && (await breakStale(path, seen, opts.staleMs))) continue;
      if (Date.now() >= deadline) throw lockTimeout(opts, seen.owner);
      await sleep(delay + Math.random() * delay, undefined, opts.signal ? { signal: opts.signal } : {}).catch(
        (e: unknown) => {
          throwIfCancelled(opts.signal);
          throw e;
        },
      );
      delay = Math.min(delay * 2, 25);
    }
  } catch (e) {
    registry.held.delete(owner.token);
    throw e;
  }
}

function lockTimeout(opts: LockOptions, holder: Owner | undefined) {
  const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another process';
  return new TroupeError(
    'LOCK_FAILED',
    `could not lock the troupe store at ${opts.dir} within ${opts.timeoutMs} ms: ${who} holds it; ` +
      'try again, or remove .troupe/lock if no troupe process is running',
    // The wait ran its whole time already: a step's retry would only wait it again.
    { retryable: false, context: { dir: opts.dir, holder, timeoutMs: opts.timeoutMs } },
  );
}

/** Serializes within the process, then holds the inter-process lock while `fn` runs. */
export function withLock<T>(
  key: string,
  path: string,
  opts: LockOptions,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  return serialize(key, async () => {
    // Waited for this process's earlier commits: the caller may have given up meanwhile.
    throwIfCancelled(opts.signal);
    const lock = await acquireLock(path, opts);
    try {
      return await fn(lock);
    } finally {
      await lock.release();
    }
  });
}
