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
    };
    plans.set(def, plan);
  }
  return plan;
}
