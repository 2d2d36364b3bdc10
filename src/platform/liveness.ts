import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';

/** What /proc says of a process (Linux): its start time (clock ticks since boot) and state. */
function procStat(pid: number): { started: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', started: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** A process's start time, so a pid reused by another process is told apart; undefined where unknown. */
export const startTimeOf = (pid: number): string | undefined => procStat(pid)?.started || undefined;

/**
 * Whether the process that recorded (`pid`, `started`) on this host is still running: it
 * answers signal 0, it is not a zombie (exited, not yet reaped), and, where start times are
 * known, it started when it said it did (else the pid was reused). The one liveness check of
 * lock holders and workflow run owners.
 */
export function processAlive(pid: number, started?: string): boolean {
  // Signal 0 to 0 or -1 (a process group, every process) answers for others: no holder's pid.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const now = procStat(pid);
  if (now?.state === 'Z' || now?.state === 'X') return false;
  return started === undefined || now === undefined || now.started === started;
}

/**
 * When this machine started (ms since the epoch). A file last changed before then was left by
 * a process that cannot be running: the machine has restarted since (a power loss, say).
 */
export const bootedAt = (): number => Date.now() - uptime() * 1000;
