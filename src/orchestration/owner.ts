import { hostname } from 'node:os';
import { processAlive, startTimeOf } from '../platform/process.js';

/** The process that runs a workflow: recorded so recovery never undoes a live run. */
export interface RunOwner {
  pid: number;
  host: string;
  /** When the process started (Linux clock ticks since boot), so a reused pid is told apart. */
  started?: string;
}

export const currentOwner = (): RunOwner => {
  const started = startTimeOf(process.pid);
  return { pid: process.pid, host: hostname(), ...(started ? { started } : {}) };
};

/**
 * Run ids executing in this process, across every runner and every copy of this module
 * (a global registry), so one runner's recovery never undoes another runner's live run.
 */
const KEY = Symbol.for('troupe.activeRuns');
const registry = globalThis as Record<symbol, Set<string> | undefined>;
registry[KEY] ??= new Set<string>();
export const activeRuns: Set<string> = registry[KEY];

/**
 * True when the owner may still be running: this process if the run is active in it, another
 * process on this host that answers signal 0, or any process on another host (which cannot
 * be checked from here).
 */
export function ownerMayBeAlive(owner: RunOwner | undefined, runId?: string): boolean {
  if (!owner) return false;
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return runId !== undefined && activeRuns.has(runId);
  // Alive, not a zombie, and the same process: a pid reused by another one is not the owner.
  return processAlive(owner.pid, owner.started);
}
