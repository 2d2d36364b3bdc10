import { appendFileSync } from 'node:fs';

/**
 * Named crash points, for tests that kill a process at every point of a change in turn. Off
 * unless the environment asks (one check per point, cached at load):
 * - `TROUPE_CRASH_TRACE=FILE` appends every point reached to FILE, one per line: its name, then
 *   what it concerns (a path, a run);
 * - `TROUPE_CRASH_AT=NAME` kills the process (SIGKILL) at the first point of that name, and
 *   `TROUPE_CRASH_AT=#N` at the N-th point reached, whatever its name.
 */
const at = process.env.TROUPE_CRASH_AT;
const trace = process.env.TROUPE_CRASH_TRACE;
const on = Boolean(at || trace);
let reached = 0;

/** `detail` (a path, a run) goes into the trace after the name; points are matched by name. */
export function crashPoint(name: string, detail?: string): void {
  if (!on) return;
  reached++;
  if (trace) appendFileSync(trace, detail === undefined ? `${name}\n` : `${name} ${detail}\n`);
  if (at === name || at === `#${reached}`) process.kill(process.pid, 'SIGKILL');
}
