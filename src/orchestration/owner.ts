import { hostname } from 'node:os';

/** The process that runs a workflow: recorded so recovery never undoes a live run. */
export interface RunOwner {
  pid: number;
  host: string;
}

export const currentOwner = (): RunOwner => ({ pid: process.pid, host: hostname() });

/**
 * True when the owner may still be running: another process on this host that answers
 * signal 0, or any process on another host (which cannot be checked from here).
 */
export function ownerMayBeAlive(owner: RunOwner | undefined): boolean {
  if (!owner) return false;
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
