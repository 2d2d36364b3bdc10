import { appendFileSync } from 'node:fs';

/**
 * Named crash points, for tests that kill a process at every point of a change in turn. Off
 * unless the environment asks (one check per point, cached at load):
 * - `TROUPE_CRASH_TRACE=FILE` appends every point reached to FILE, one per line: its name, then
 *   what it concerns (a path, a run);
 * - `TROUPE_CRASH_AT=NAME` kills the process (SIGKILL) at the first point of that name, and
 *   `TROUPE_CRASH_AT=#N` at the N-th point reached, whatever its name;
 * - `TROUPE_PAUSE_AT=NAME` or `#N` stops the process there instead (SIGSTOP, as a machine
 *   that stalls does), until a SIGCONT: a holder that goes on after another took its run;
 * - `TROUPE_DISK_LOG=FILE` appends to FILE, as JSON lines, every change made to the disk (see
 *   disk.ts) and every point, in the order they happened: a power loss replayed at any of them;
 * - `TROUPE_DISK_FAULT=sync:<what>` makes the first fsync of that kind (journal, file, dir,
 *   runlog) fail with EIO, as a failing disk would.
 */
const at = process.env.TROUPE_CRASH_AT;
const pauseAt = process.env.TROUPE_PAUSE_AT;
const trace = process.env.TROUPE_CRASH_TRACE;
const diskLog = process.env.TROUPE_DISK_LOG;
const on = Boolean(at || pauseAt || trace || diskLog);
let reached = 0;

const fault = process.env.TROUPE_DISK_FAULT;
let faulted = false;

/** True, once, at the disk operation TROUPE_DISK_FAULT names. */
export function injectedFault(name: string): boolean {
  if (fault !== name || faulted) return false;
  faulted = true;
  return true;
}

/** True when disk changes are being recorded (TROUPE_DISK_LOG). */
export const recordingDisk = Boolean(diskLog);

/** Appends one record to the disk log. */
export function recordDisk(entry: Record<string, unknown>): void {
  if (diskLog) appendFileSync(diskLog, `${JSON.stringify(entry)}\n`);
}

/** `detail` (a path, a run) goes into the trace after the name; points are matched by name. */
export function crashPoint(name: string, detail?: string): void {
  if (!on) return;
  reached++;
  if (trace) appendFileSync(trace, detail === undefined ? `${name}\n` : `${name} ${detail}\n`);
  if (diskLog)
    recordDisk(detail === undefined ? { o: 'point', n: name } : { o: 'point', n: name, d: detail });
  if (at === name || at === `#${reached}`) process.kill(process.pid, 'SIGKILL');
  if (pauseAt === name || pauseAt === `#${reached}`) process.kill(process.pid, 'SIGSTOP');
}
