import { formatIssues } from '../domain/common.js';
import { validationError } from '../domain/errors.js';
import type { WorkflowDefinition } from '../orchestration/definition.js';
import { inputGaps } from '../orchestration/refs.js';

/** Refuses to start a workflow whose steps refer to input fields the input does not have. */
export function assertInputGiven(def: WorkflowDefinition, input: unknown): void {
  const gaps = inputGaps(def.steps, input);
  if (gaps.length === 0) return;
  throw validationError(
    `workflow ${def.id} cannot start: ${gaps.length === 1 ? 'an input it needs is' : 'inputs it needs are'} missing (nothing was run):\n${formatIssues(gaps)}\nGive ${gaps.length === 1 ? 'it' : 'them'} in the input (\`troupe workflow run FILE --input INPUT.json\`).`,
    gaps,
    { workflowId: def.id },
  );
}
