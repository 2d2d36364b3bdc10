import { type WorkflowBuilder, workflow } from '../orchestration/builder.js';
import type { WorkflowDefinition } from '../orchestration/definition.js';
import { workflowInput as input, stepOutput as out } from '../orchestration/refs.js';
import type { BuiltInOperations } from './handlers.js';

export { DEFAULT_SERVICE_POLICY } from './default-policy.js';

/** A built-in workflow: typed against the built-in operations, so its outputs are typed too. */
const flow = (id: string) => workflow<BuiltInOperations>(id);

/** Every writing step is undone by its service's `revert` (or `restore` for updates), from its output. */
const revert = { operation: 'revert', needs: 'output' } as const;

/** The consistency check closing a workflow: everything the given steps touched. */
const verifyAfter = (...steps: string[]) => ({
  input: { touched: steps.map((id) => out(id, 'touched')), written: steps.map((id) => out(id, 'results')) },
  dependsOn: [steps[steps.length - 1]!],
});

/** The end every planning workflow shares: commit the planned ops at once, then check them. */
const persistAndVerify = <Out>(b: WorkflowBuilder<BuiltInOperations, Out>, planStep: string) =>
  b
    .step('persist', 'file', 'persist', {
      input: { ops: out(planStep, 'ops'), replan: out(planStep, 'replan') },
      dependsOn: [planStep],
      compensate: revert,
      checkedBy: 'verify',
    })
    .step('verify', 'configuration', 'verify', verifyAfter('persist'))
    .build();

/**
 * create-agent: personality check ∥ role check → agent composition (the model checked against
 * the role, its catalog read with the plan's other reads) → persist (personality, role, agent
 * and resolved file in one commit) → consistency check. Only persist writes; a failure after
 * it is compensated.
 */
export const createAgentWorkflow = persistAndVerify(
  flow('create-agent')
    .description('Create an agent with a new or existing personality and role, all or nothing')
    .maxParallel(2)
    .step('personality', 'personality', 'check', {
      input: {
        personality: input('personality'),
        id: input('personalityId'),
        agentId: input('agentId'),
        file: input('file'),
      },
    })
    .step('role', 'role', 'check', {
      input: {
        role: input('role'),
        template: input('template'),
        id: input('roleId'),
        agentId: input('agentId'),
        file: input('file'),
      },
    })
    .step('agent', 'agent', 'compose', {
      input: {
        agent: input('agent'),
        personality: input('personality'),
        role: input('role'),
        template: input('template'),
        file: input('file'),
      },
      dependsOn: ['personality', 'role'],
    }),
  'agent',
);

/**
 * update-personality / update-role: the entity, every agent that uses it and every resolved
 * file in one guarded commit (planned again on fresh state if it loses a race) → check.
 */
function cascadingUpdate(kind: 'personality' | 'role') {
  return flow(`update-${kind}`)
    .description(`Update a ${kind} and every agent that uses it, all or nothing`)
    .step('update', kind, 'update', {
      input: input(),
      compensate: { operation: 'restore', needs: 'output' },
      recovery: 'resolve-conflict-and-retry',
      checkedBy: 'verify',
    })
    .step('verify', 'configuration', 'verify', verifyAfter('update'))
    .build();
}
export const updatePersonalityWorkflow = cascadingUpdate('personality');
export const updateRoleWorkflow = cascadingUpdate('role');

/** update-agent: the re-composed agent and its resolved file in one guarded commit → check. */
export const updateAgentWorkflow = flow('update-agent')
  .description('Update an agent and re-compose it with its resolved file, all or nothing')
  .step('agent', 'agent', 'update', {
    input: input(),
    compensate: revert,
    recovery: 'resolve-conflict-and-retry',
    checkedBy: 'verify',
  })
  .step('verify', 'configuration', 'verify', verifyAfter('agent'))
  .build();

/**
 * delete-personality / delete-role: the entity with its agents detached (refused, cascaded or
 * reassigned) in one guarded commit → check.
 */
function referencedDelete(kind: 'personality' | 'role') {
  return flow(`delete-${kind}`)
    .description(`Delete a ${kind}: refused while agents use it, unless cascaded or reassigned`)
    .step('delete', kind, 'remove', {
      input: {
        id: input('id'),
        mode: input('mode'),
        to: input('to'),
        expectedRevision: input('expectedRevision'),
      },
      compensate: revert,
      checkedBy: 'verify',
    })
    .step('verify', 'configuration', 'verify', verifyAfter('delete'))
    .build();
}
export const deletePersonalityWorkflow = referencedDelete('personality');
export const deleteRoleWorkflow = referencedDelete('role');

export const deleteAgentWorkflow = flow('delete-agent')
  .description('Delete an agent and its resolved file, all or nothing')
  .step('delete', 'agent', 'remove', { input: input(), compensate: revert, checkedBy: 'verify' })
  .step('verify', 'configuration', 'verify', verifyAfter('delete'))
  .build();

export const deleteModelWorkflow = flow('delete-model')
  .description('Remove a model of the directory: refused while agents use it')
  .step('delete', 'model', 'remove', { input: input(), compensate: revert, checkedBy: 'verify' })
  .step('verify', 'configuration', 'verify', verifyAfter('delete'))
  .build();

/** apply-bundle: plan (validate everything, diff) → one all-or-nothing commit → check. */
export const applyBundleWorkflow = persistAndVerify(
  flow('apply-bundle')
    .description('Apply a bundle: create, update and (with prune) delete entities in one commit, then check')
    .step('plan', 'configuration', 'planBundle', { input: input() }),
  'plan',
);

/** reconcile: detect → fix what can be fixed in one commit → check what was fixed. */
export const reconcileWorkflow = persistAndVerify(
  flow('reconcile')
    .description('Re-compose stale agents and fix resolved files in one commit, then check what was fixed')
    .step('plan', 'configuration', 'planReconcile', { input: {} }),
  'plan',
);

/**
 * The definitions of the workflows the ConfigurationService runs (create-agent,
 * update-personality, apply-bundle, reconcile, ...), as `troupe workflow builtins` prints them.
 *
 * @example
 * ```ts
 * for (const def of BUILT_IN_WORKFLOWS) console.log(def.id, def.steps.map((s) => s.id).join(' → '));
 * // create-agent personality → role → agent → persist → verify
 * ```
 */
export const BUILT_IN_WORKFLOWS: WorkflowDefinition[] = [
  createAgentWorkflow,
  updatePersonalityWorkflow,
  updateRoleWorkflow,
  updateAgentWorkflow,
  deletePersonalityWorkflow,
  deleteRoleWorkflow,
  deleteAgentWorkflow,
  deleteModelWorkflow,
  applyBundleWorkflow,
  reconcileWorkflow,
];

/** create-personality / create-role: one write and a consistency check, in the same run log. */
export const createPersonalityWorkflow = flow('create-personality')
  .description('Create a personality')
  .step('personality', 'personality', 'create', {
    input: { personality: input('personality'), file: input('file') },
    compensate: revert,
  })
  .build();
export const createRoleWorkflow = flow('create-role')
  .description('Create a custom role, from scratch or from a predefined template')
  .step('role', 'role', 'create', {
    input: { role: input('role'), template: input('template'), file: input('file') },
    compensate: revert,
  })
  .build();
BUILT_IN_WORKFLOWS.push(createPersonalityWorkflow, createRoleWorkflow);
