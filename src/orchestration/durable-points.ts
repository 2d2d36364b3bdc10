import { ENDED_STATES } from './events.js';
import type { RunEvent } from './run-log.js';

/**
 * Step events recovery relies on: what a step is about to write (intent), the outputs of
 * steps it may have to compensate (success of a step with `compensate`), and compensation
 * progress; and the final state. Making one durable makes every earlier event durable too, so
 * the rest need no sync of their own.
 */
const DURABLE_STEP_KINDS = new Set(['deferred', 'compensated', 'compensation-failed', 'intent']);

/**
 * Which events of a run must be durable before their append resolves: the one judgement of
 * every durable run log (a file's fsync, a database's synchronous commit). It follows each run
 * from its `created` event to its end.
 */
export class DurablePoints {
  /** Per run being written: the steps that can be compensated (their outputs must survive a crash). */
  readonly #undoable = new Map<string, Set<string>>();
  /** `runId\0stepId` of steps whose intent this instance made durable. */
  readonly #intended = new Set<string>();

  /** Whether `event` must be durable once appended (and with it every event before it). */
  mustPersist(runId: string, event: RunEvent): boolean {
    if (event.type === 'created')
      this.#undoable.set(runId, new Set(event.definition.steps.filter((s) => s.compensate).map((s) => s.id)));
    if (event.type === 'state' && ENDED_STATES.has(event.to)) {
      this.forget(runId);
      return true;
    }
    // A claim of a run another held: once durable, what the earlier holder still appends is
    // not part of the run, so it must be before anything the new holder does to the store.
    if (event.type === 'claimed') return true;
    if (event.type !== 'step') return false;
    const { kind, stepId } = event;
    if (kind === 'intent') this.#intended.add(`${runId}\u0000${stepId}`);
    if (DURABLE_STEP_KINDS.has(kind)) return true;
    if (kind !== 'success') return false;
    // A step whose intent is already durable is undone from that intent if its success is lost
    // (undo applies only to this run's own writes), so its success needs no sync of its own.
    if (this.#intended.has(`${runId}\u0000${stepId}`)) return false;
    const undoable = this.#undoable.get(runId);
    return undoable === undefined || undoable.has(stepId); // a run this instance did not start: be safe
  }

  /**
   * A step's intent that did not become durable after all (the commit carrying it did not
   * happen): its success needs its own sync again.
   */
  notIntended(runId: string, stepId: string): void {
    this.#intended.delete(`${runId}\u0000${stepId}`);
  }

  /** A run that ended: nothing of it is followed any more. */
  forget(runId: string): void {
    this.#undoable.delete(runId);
    for (const k of this.#intended) if (k.startsWith(`${runId}\u0000`)) this.#intended.delete(k);
  }
}
