import { fstat as fstatCb } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TroupeError } from '../domain/errors.js';
import { crashPoint } from '../platform/crash-points.js';
import * as disk from '../platform/disk.js';
import { ioDetail } from '../platform/errno.js';
import { holderState } from '../platform/holder.js';
import { claimedSince, leaseEpochsIn, leaseFileName, releasedFileName } from '../platform/lease-files.js';
import { bootedAt } from '../platform/liveness.js';
import { readRegular } from '../platform/read-regular.js';
import { DurablePoints } from './durable-points.js';
import { DONE_STATES, ENDED_STATES, type RunStatus } from './events.js';
import { type ClaimOptions, LeaseKeeper, type LeaseRecord, leaseHeld, type RunLease } from './lease.js';
import {
  foldRunEvents,
  RUN_ID,
  type RunEvent,
  type RunLog,
  type RunRecord,
  type RunSummary,
  summarize,
} from './run-log.js';
import { abandoned, assertRunId, COMPACT_OVER, compactRunLog, parseRunLines } from './run-log-files.js';
import { pageOfRuns, type RunPageOptions } from './run-pages.js';

export { compactRunLog, parseRunLines } from './run-log-files.js';

// Runs that can never change again (DONE_STATES): their log is renamed `<runId>.done.jsonl`.
const DONE = '.done.jsonl';

const fstat = promisify(fstatCb);

/**
 * One JSON-lines file per run at `<dir>/<runId>.jsonl` (`<runId>.done.jsonl` once it ended for
 * good). Each append is one `write` of one line. What recovery needs — intents, outputs of
 * compensable steps, compensation progress, the final state — is fsynced before the append
 * resolves, which makes every line before it durable too; the rest waits for the next fsync.
 *
 * @example
 * ```ts
 * const runLog = new FileRunLog('./.troupe-config/.troupe/runs', { keep: 200 });
 * const config = new ConfigurationService(await FileStore.open('./.troupe-config'), { runLog });
 * await config.recover(); // compensates the runs a crashed process left unfinished
 * // ... changes through config ...
 * await runLog.close();
 * ```
 */
export class FileRunLog implements RunLog {
  readonly dir: string;
  /** Logs the last listing (`list`, `listUnfinished`, `listPage`, `listPrefixed`) could not read, with why. */
  unreadable: Array<{ runId: string; error: string }> = [];
  /** Which lines are fsynced before their append resolves. */
  readonly #durable = new DurablePoints();
  readonly #handles = new Map<string, Promise<number>>();
  readonly #chains = new Map<string, Promise<void>>();
  #dirReady: Promise<void> | undefined;

  readonly #keep: number;
  readonly #keeper: LeaseKeeper;
  /** Tokens of leases this log gave back: a renewal racing the release must not bring one back. */
  readonly #released = new Set<string>();

  /**
   * `keep`: how many finished run logs to keep (default 1000); older ones are pruned.
   * `leaseMs`: how long a run's lease lasts unrenewed (default 30 s; see RunLog).
   */
  constructor(dir: string, opts: { keep?: number; leaseMs?: number } = {}) {
    this.dir = dir;
    this.#keep = opts.keep ?? 1000;
    this.#keeper = new LeaseKeeper(opts.leaseMs, (l) => this.renew(l));
  }

  /** `<runId>.lease.<epoch>`: one file per claim, created exclusively, so one claimant wins each epoch. */
  #leaseFile(runId: string, epoch: number): string {
    assertRunId(runId);
    return join(this.dir, leaseFileName(runId, epoch));
  }

  #releasedFile(runId: string, epoch: number): string {
    assertRunId(runId);
    return join(this.dir, releasedFileName(runId, epoch));
  }

  /**
   * The epochs of the run's lease files, highest first (`live`: not given back), and the
   * highest epoch ever claimed, released ones included (a given-back lease's file is renamed
   * `<runId>.released.<epoch>`, so epochs only ever go up).
   */
  async #leaseEpochs(runId: string): Promise<{ live: number[]; released: number[]; max: number }> {
    assertRunId(runId);
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { live: [], released: [], max: 0 };
      throw new TroupeError('IO_ERROR', `${this.dir}: cannot list run leases: ${ioDetail(e)}`, { cause: e });
    }
    return leaseEpochsIn(names, runId);
  }

  /**
   * The run's latest lease: the highest epoch whose file exists, and whether it binds. A file
   * that does not parse is one being written this instant (it binds), or one a crash cut short
   * (it binds until it is a lease's time old, and not at all from before the machine started).
   */
  async #latestLease(
    runId: string,
  ): Promise<{ epoch: number; record: LeaseRecord | undefined; held: boolean; max: number }> {
    const { live, max } = await this.#leaseEpochs(runId);
    const [epoch] = live;
    if (epoch === undefined) return { epoch: 0, record: undefined, held: false, max };
    const file = this.#leaseFile(runId, epoch);
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([readRegular(file, 'utf8'), stat(file)]);
    } catch (e) {
      // Released (removed) between the listing and the read: nothing binds.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { epoch, record: undefined, held: false, max };
      throw new TroupeError('IO_ERROR', `${file}: cannot read: ${ioDetail(e)}`, { cause: e });
    }
    const record = leaseIn(text);
    // Written before this machine last started, by a process of this machine (or cut short by
    // a crash): its holder died with the machine (a pid that lives again since is another
    // process, where start times cannot tell them apart). Another machine's holder (a shared
    // directory) did not: its lease binds until it runs out.
    const elsewhere = record !== undefined && holderState(record.holder) === 'elsewhere';
    if (mtimeMs < bootedAt() && !elsewhere) return { epoch, record: undefined, held: false, max };
    if (record) return { epoch, record, held: leaseHeld(record), max };
    return { epoch, record: undefined, held: Date.now() - mtimeMs < this.#keeper.ttlMs, max };
  }

  async claim(runId: string, opts: ClaimOptions = {}): Promise<RunLease | undefined> {
    this.#dirReady ??= disk.mkdirDurable(this.dir);
    await this.#dirReady;
    // One reading decides both whether the run is free and the epoch to claim: a claim another
    // process makes meanwhile takes that epoch's file first, and this one then loses.
    const judged = opts.fresh ? undefined : await this.#judge(runId);
    if (judged?.held && !opts.force) return undefined;
    // Lease files are not fsynced: after a power loss the log's own epochs count too.
    const epoch = Math.max(judged?.latest.max ?? 0, judged?.record?.epoch ?? 0) + 1;
    const lease = this.#keeper.grant(runId, epoch);
    let won = false;
    try {
      won = await this.#writeLease(lease, 'wx'); // false: another claimant won this epoch
      // A new run's id must be new: a run of that id may have finished (and let go of its
      // lease files) between the caller's check and this claim.
      if (won && opts.fresh && (await this.#logExists(runId))) {
        await disk.unlink(this.#leaseFile(runId, epoch)).catch(() => undefined);
        won = false;
      }
    } finally {
      if (!won) this.#keeper.stop(lease);
    }
    if (!won) return undefined;
    // Earlier claims are over: their files go, so none can read as held once this one is
    // released (this one's epoch, the highest, stays on record in its own file).
    // Lowest first: while an older holder's file is there, the one after it is too (the file
    // store's fence relies on it; see claimedSince).
    const { live, released } = await this.#leaseEpochs(runId);
    const older = [
      ...live.filter((e) => e < epoch).map((e) => [e, this.#leaseFile(runId, e)] as const),
      ...released.map((e) => [e, this.#releasedFile(runId, e)] as const),
    ].sort((a, b) => a[0] - b[0]);
    for (const [, file] of older) await disk.unlink(file).catch(() => undefined);
    return lease;
  }

  async #logExists(runId: string): Promise<boolean> {
    for (const path of [this.#file(runId), this.#doneFile(runId)])
      if (
        await stat(path).then(
          () => true,
          () => false,
        )
      )
        return true;
    return false;
  }

  /** Writes a lease file: `wx` creates it (false when it exists), `w` rewrites the holder's own. */
  async #writeLease(lease: LeaseRecord, flag: 'wx' | 'w'): Promise<boolean> {
    const file = this.#leaseFile(lease.runId, lease.epoch);
    const text = JSON.stringify(lease);
    try {
      // No fsync: a lease binds live processes only, and a power loss ends them all.
      if (flag === 'wx') await disk.writeNewFile(file, text, 'wx');
      else {
        // Whole or not at all: a reader never sees a half-written lease of a live holder.
        try {
          await disk.writeNewFile(`${file}.tmp`, text, 'w');
          await disk.rename(`${file}.tmp`, file);
        } catch (e) {
          await disk.unlink(`${file}.tmp`).catch(() => undefined); // a full disk: leave nothing behind
          throw e;
        }
      }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new TroupeError('IO_ERROR', `could not write the lease ${file}: ${ioDetail(e)}`, { cause: e });
    }
  }

  async renew(lease: RunLease): Promise<boolean> {
    if (this.#released.has(lease.token)) return false;
    const latest = await this.#latestLease(lease.runId);
    if (latest.epoch !== lease.epoch || latest.record?.token !== lease.token || latest.record.released)
      return false;
    const ok = await this.#writeLease({ ...latest.record, expiresAt: this.#keeper.expiry() }, 'w');
    // Released while this renewal was under way: the file it wrote back must go again.
    if (this.#released.has(lease.token)) {
      await disk.unlink(this.#leaseFile(lease.runId, lease.epoch)).catch(() => undefined);
      return false;
    }
    return ok;
  }

  /**
   * Renames the lease's file `<runId>.released.<epoch>` (which needs no space on a full disk):
   * no one holds the run, and the next claim's epoch is still higher.
   */
  async release(lease: RunLease): Promise<void> {
    this.#keeper.stop(lease);
    this.#released.add(lease.token);
    // Kept as long as a renewal under way could still finish; then forgotten.
    setTimeout(() => this.#released.delete(lease.token), this.#keeper.ttlMs).unref();
    const latest = await this.#latestLease(lease.runId);
    if (latest.epoch !== lease.epoch || latest.record?.token !== lease.token) return;
    const file = this.#leaseFile(lease.runId, lease.epoch);
    await disk
      .rename(file, this.#releasedFile(lease.runId, lease.epoch))
      .catch(() => disk.unlink(file))
      .catch(() => undefined);
  }

  async isHeld(runId: string): Promise<boolean> {
    return (await this.#judge(runId)).held;
  }

  /** The run's latest lease and log, and whether a live holder has the run. */
  async #judge(runId: string) {
    const [latest, record] = await Promise.all([this.#latestLease(runId), this.read(runId)]);
    // A lease older than the run's latest epoch in its log was taken over: it binds no one.
    if (latest.epoch > 0)
      return { latest, record, held: latest.held && latest.epoch >= (record?.epoch ?? 0) };
    // Released, or a run logged before leases (epoch 0): only the latter is judged by the
    // process its log names (this one holds what it runs by lease).
    if (!record || record.epoch > 0 || latest.max > 0 || !record.owner)
      return { latest, record, held: false };
    const state = holderState(record.owner);
    return { latest, record, held: state === 'alive' || state === 'elsewhere' };
  }

  async superseded(lease: RunLease, ended: RunStatus): Promise<boolean> {
    if ((await claimedSince(this.dir, lease.runId, lease.epoch)) === undefined) return false;
    // Claimed since: the log says whose the run's end is (an end appended after the claim is a
    // zombie's, not part of the run).
    return (await this.read(lease.runId))?.state !== ended;
  }

  /** True when the run was claimed at a later epoch than `epoch` (best effort: false if unreadable). */
  async #claimedPast(runId: string, epoch: number | undefined): Promise<boolean> {
    if (epoch === undefined) return false;
    return typeof (await claimedSince(this.dir, runId, epoch).catch(() => undefined)) === 'number';
  }

  /** Removes a finished run's lease files: it is never claimed again. */
  async #dropLeases(runId: string): Promise<void> {
    const { live, released } = await this.#leaseEpochs(runId);
    for (const epoch of live) await disk.unlink(this.#leaseFile(runId, epoch)).catch(() => undefined);
    for (const epoch of released) await disk.unlink(this.#releasedFile(runId, epoch)).catch(() => undefined);
  }

  #file(runId: string): string {
    assertRunId(runId);
    return join(this.dir, `${runId}.jsonl`);
  }

  #doneFile(runId: string): string {
    assertRunId(runId);
    return join(this.dir, `${runId}${DONE}`);
  }

  /** Moves a finished run's log aside so recovery never reads it again (best effort). */
  async #retire(runId: string): Promise<void> {
    const from = this.#file(runId);
    try {
      // A finished run needs no undo data any more: a large log keeps its timeline, not copies of documents.
      if ((await stat(from)).size > COMPACT_OVER) {
        const tmp = `${this.#doneFile(runId)}.tmp`;
        try {
          // fsynced before it replaces the whole log, which is then removed: never a loss of both.
          await disk.writeNewFile(tmp, compactRunLog(await readRegular(from, 'utf8')), 'w', 'runlog');
          await disk.rename(tmp, this.#doneFile(runId));
        } catch (e) {
          // A full disk: no half-written copy is left behind; the whole log stays where it was.
          await disk.unlink(tmp).catch(() => undefined);
          throw e;
        }
        await disk.unlink(from);
      } else {
        await disk.rename(from, this.#doneFile(runId));
      }
      await this.#dropLeases(runId);
      // Every process enforces the limit when a run of its own finishes (a CLI process finishes
      // one): a directory listing, and only over the limit a stat of each finished log.
      await this.prune();
    } catch {
      // Best effort: left as it is, it is still a complete log (recovery sees it finished).
    }
  }

  /** Deletes the oldest finished run logs beyond `keep` (unfinished runs are never touched). */
  async prune(): Promise<number> {
    const done = (await readdir(this.dir)).filter((n) => n.endsWith(DONE));
    if (done.length <= this.#keep) return 0;
    const aged = await Promise.all(
      done.map(async (n) => ({ n, t: (await stat(join(this.dir, n))).mtimeMs })),
    );
    aged.sort((a, b) => a.t - b.t);
    const drop = aged.slice(0, aged.length - this.#keep);
    await Promise.all(drop.map(({ n }) => disk.unlink(join(this.dir, n)).catch(() => undefined)));
    return drop.length;
  }

  async #openHandle(file: string): Promise<number> {
    this.#dirReady ??= disk.mkdirDurable(this.dir);
    await this.#dirReady;
    const fd = await disk.open(file, 'a+');
    try {
      // A previous process may have died mid-line: cut the torn tail so the next line stays whole.
      const { size } = await fstat(fd);
      if (size > 0) {
        const text = await readRegular(file, 'utf8');
        if (!text.endsWith('\n')) {
          const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
          await disk.truncate(fd, keep);
        }
      } else {
        // A new file: its name must be durable before any of its lines is relied on.
        await disk.syncDir(this.dir);
      }
      return fd;
    } catch (e) {
      await disk.close(fd).catch(() => undefined);
      throw e;
    }
  }

  append(runId: string, event: RunEvent): Promise<void> {
    const file = this.#file(runId);
    const previous = this.#chains.get(runId) ?? Promise.resolve();
    const next = previous.then(async () => {
      let handle = this.#handles.get(runId);
      if (!handle) {
        handle = this.#openHandle(file);
        this.#handles.set(runId, handle);
        // A failed open is not cached: the next append tries again.
        handle.catch(() => this.#handles.delete(runId));
      }
      const h = await handle;
      try {
        await disk.writeAll(h, Buffer.from(`${JSON.stringify(event)}\n`, 'utf8'));
      } catch (e) {
        // A full disk cut the line short: take the handle out of use so the next append reopens
        // the file, and cutting the torn tail then keeps every later line whole and readable.
        this.#handles.delete(runId);
        await disk.close(h).catch(() => undefined);
        throw new TroupeError('IO_ERROR', `could not write the run log ${file}: ${ioDetail(e)}`, {
          cause: e,
          context: { file },
        });
      }
      crashPoint('runlog:written', `${runId} ${event.type === 'step' ? event.kind : event.type}`);
      const final = event.type === 'state' && ENDED_STATES.has(event.to);
      if (this.#durable.mustPersist(runId, event)) await disk.sync(h, 'runlog', runId);
      if (final) {
        this.#handles.delete(runId);
        await disk.close(h);
        // A zombie's end (its run claimed by another since) retires nothing: the run is the
        // new holder's, and so are its lease files.
        if (
          event.type === 'state' &&
          DONE_STATES.has(event.to) &&
          !(await this.#claimedPast(runId, event.epoch))
        )
          await this.#retire(runId);
      }
    });
    // Keep the chain alive after a failure so later appends still run; the caller sees the error.
    const settled = next.catch(() => {});
    this.#chains.set(runId, settled);
    void settled.then(() => {
      if (this.#chains.get(runId) === settled) this.#chains.delete(runId);
    });
    return next;
  }

  async read(runId: string): Promise<RunRecord | undefined> {
    const file = this.#file(runId);
    await this.#chains.get(runId);
    // A log is renamed when its run finishes: look where it was, then where it went.
    for (const path of [file, this.#doneFile(runId)]) {
      let text: string;
      try {
        text = await readRegular(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new TroupeError('IO_ERROR', `${path}: cannot read run log`, {
          cause: e,
          context: { file: path },
        });
      }
      return foldRunEvents(parseRunLines(text, path));
    }
    return undefined;
  }

  list(): Promise<RunSummary[]> {
    return this.#list(false);
  }

  /** A page of `list`, newest first: which runs a page holds is known once every log is read. */
  async listPage(opts: RunPageOptions): Promise<RunSummary[]> {
    return pageOfRuns(await this.list(), opts);
  }

  /** The runs of `list` whose id starts with `prefix`: only the logs of such ids are read. */
  listPrefixed(prefix: string): Promise<RunSummary[]> {
    return this.#list(false, prefix);
  }

  async #list(unfinishedOnly: boolean, prefix = ''): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TroupeError('IO_ERROR', `${this.dir}: cannot list run logs`, {
        cause: e,
        context: { dir: this.dir },
      });
    }
    const ids = new Set<string>();
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const runId = name.slice(0, -(name.endsWith(DONE) ? DONE : '.jsonl').length);
      if (RUN_ID.test(runId) && runId.startsWith(prefix) && !(unfinishedOnly && name.endsWith(DONE)))
        ids.add(runId);
    }
    if (unfinishedOnly) await this.#dropStrayLeases(names);
    const out: RunSummary[] = [];
    this.unreadable = [];
    for (const runId of [...ids].sort()) {
      let record: RunRecord | undefined;
      try {
        record = await this.read(runId);
      } catch (e) {
        // One damaged log must not hide the others (nor stop recovery of theirs): set it aside.
        this.unreadable.push({ runId, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      if (!record) {
        // Stopped between creating its log and finishing its first line: it recorded (and so
        // did) nothing. Removed once surely abandoned, never while a live run may be writing.
        if (unfinishedOnly) await this.#dropAbandoned(runId);
        continue;
      }
      // A run that finished but whose log was not moved yet (a crash in between): move it now.
      if (unfinishedOnly && DONE_STATES.has(record.state)) {
        await this.#retire(runId);
        continue;
      }
      out.push(summarize(record));
    }
    return out;
  }

  async #dropAbandoned(runId: string): Promise<void> {
    const file = this.#file(runId);
    try {
      if (await abandoned(file)) {
        await disk.unlink(file);
        await this.#dropLeases(runId);
      }
    } catch {
      // Gone already, or not ours to judge: left as it is.
    }
  }

  /**
   * Lease files no run needs (a process killed between them and its log): those of a run whose
   * log is `.done` (it is never claimed again), and, once surely abandoned, those of a run with
   * no log at all (killed before it made one: it recorded, and so did, nothing).
   */
  async #dropStrayLeases(names: string[]): Promise<void> {
    const present = new Set(names);
    const runs = new Set<string>();
    for (const name of names) {
      const m = /^(.+)\.(?:lease|released)\.\d+$/.exec(name);
      if (m && RUN_ID.test(m[1]!)) runs.add(m[1]!);
    }
    for (const runId of runs) {
      try {
        if (present.has(`${runId}${DONE}`)) await this.#dropLeases(runId);
        else if (!present.has(`${runId}.jsonl`)) {
          const { live, released } = await this.#leaseEpochs(runId);
          const files = [
            ...live.map((e) => this.#leaseFile(runId, e)),
            ...released.map((e) => this.#releasedFile(runId, e)),
          ];
          const old = await Promise.all(files.map((f) => abandoned(f).catch(() => false)));
          // Never a lease still held (its holder renews it, or has not yet run out of time).
          if (old.every(Boolean) && !(await this.#latestLease(runId)).held && !(await this.#logExists(runId)))
            await this.#dropLeases(runId);
        }
      } catch {
        // Not ours to judge now: left for a later listing.
      }
    }
  }

  /** Runs not finished for good (running, compensating, partially-completed): what recovery reads. */
  listUnfinished(): Promise<RunSummary[]> {
    return this.#list(true);
  }

  /** Close the files of runs still open (runs that have not reached a final state); stops renewing leases. */
  async close(): Promise<void> {
    this.#keeper.stopAll();
    await Promise.all([...this.#chains.values()]);
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    for (const h of handles) await disk.close(await h);
  }
}

/** The lease a lease file holds; undefined for one that does not parse, or is no lease (no holder): judged by its age alone. */
function leaseIn(text: string): LeaseRecord | undefined {
  try {
    const parsed = JSON.parse(text) as LeaseRecord | null;
    return typeof parsed?.holder?.host === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
