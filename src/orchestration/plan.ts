import type { StepDefinition, WorkflowDefinition } from './definition.js';
import { dependents } from './graph.js';

/** What the runner precomputes once per definition. */
export interface Plan {
  steps: readonly StepDefinition[];
  byId: ReadonlyMap<string, StepDefinition>;
  /** Direct dependents of each step, in definition order. */
  dependents: ReadonlyMap<string, readonly string[]>;
  /** Every step's extra `sensitive` keys. */
  sensitive: readonly string[];
  /** A step can be deferred: the run may be resumed, so its input and outputs are read back. */
  resumable: boolean;
  /** A compensation names other steps' outputs: every output may be read back. */
  compensationRefs: boolean;
}

const plans = new WeakMap<WorkflowDefinition, Plan>();

/** The plan of a validated definition (cached per definition object). */
export function planFor(def: WorkflowDefinition): Plan {
  let plan = plans.get(def);
  if (!plan) {
    plan = {
      steps: def.steps,
      byId: new Map(def.steps.map((s) => [s.id, s])),
      dependents: dependents(def.steps),
      sensitive: [...new Set(def.steps.flatMap((s) => s.sensitive ?? []))],
      resumable: def.steps.some((s) => s.recovery === 'defer'),
      compensationRefs: def.steps.some((s) => s.compensate?.input !== undefined),
    };
    plans.set(def, plan);
  }
  return plan;
}
