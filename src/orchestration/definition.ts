import { z } from 'zod';
import { formatIssues, toIssues } from '../domain/common.js';
import { type Issue, validationError } from '../domain/errors.js';
import { containsMarkedSecret, secretPaths } from '../domain/secrets.js';
import { printable, unsafeCharacter, unsafeCharacterName } from '../domain/text.js';
import { ancestors, findCycle } from './graph.js';
import { collectRefs, parseRef } from './refs.js';

/** Any JSON value: definitions are data and must survive a round trip through the run log. */
export const Json = z.json();
export type Json = z.infer<typeof Json>;

const StepId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'must use letters, digits, "-" and "_" only (refs use "." as separator)');

/**
 * Text a definition names or describes itself with: printed by `workflow list` and stored in
 * the run log, so no control or direction-override character (a terminal escape, a NUL).
 */
const safe = (s: z.ZodString, oneLine = false) =>
  s.superRefine((v, ctx) => {
    const c = unsafeCharacter(v, { oneLine });
    if (c) ctx.addIssue({ code: 'custom', message: `contains ${unsafeCharacterName(c)}` });
  });

const Name = safe(z.string().min(1).max(200), true);

export const RetryDefinition = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100),
  baseDelayMs: z.number().min(0).default(50),
  multiplier: z.number().min(1).default(2),
  maxDelayMs: z.number().min(0).optional(),
  jitterPercent: z.number().min(0).max(100).optional(),
});
export type RetryDefinition = z.infer<typeof RetryDefinition>;

export const CircuitBreakerDefinition = z.strictObject({
  failureThreshold: z.number().int().min(1),
  recoveryMs: z.number().min(0).default(5000),
});
export type CircuitBreakerDefinition = z.infer<typeof CircuitBreakerDefinition>;

/** Resilience settings of a step or of every step of a service; the step's fields win. */
export const PolicyDefinition = z.strictObject({
  timeoutMs: z.number().positive().optional(),
  retry: RetryDefinition.optional(),
  circuitBreaker: CircuitBreakerDefinition.optional(),
  /** Name of a bulkhead pool configured on the runner. */
  bulkhead: Name.optional(),
});
export type PolicyDefinition = z.infer<typeof PolicyDefinition>;
export type PolicyDefinitionInput = z.input<typeof PolicyDefinition>;

export const RECOVERIES = ['resolve-conflict-and-retry', 'fallback-sequential', 'defer'] as const;
export type Recovery = (typeof RECOVERIES)[number];

export const StepDefinition = z.strictObject({
  id: StepId,
  service: Name,
  operation: Name,
  input: Json.optional(),
  dependsOn: z.array(StepId).optional(),
  /**
   * The operation (same service) that undoes this step; gets `{ input, output }` unless `input`
   * is given. `needs: 'output'` says it reads only the output, so a large step input is kept
   * in the run log by digest.
   */
  compensate: z
    .strictObject({ operation: Name, input: Json.optional(), needs: z.enum(['output']).optional() })
    .optional(),
  policy: PolicyDefinition.optional(),
  recovery: z.enum(RECOVERIES).optional(),
  /** Used while the service's circuit is open: another operation of the service, or a constant. */
  fallback: z
    .union([z.strictObject({ operation: Name, input: Json.optional() }), z.strictObject({ value: Json })])
    .optional(),
  /** Extra keys whose values are redacted from logs and events. */
  sensitive: z.array(z.string().min(1)).optional(),
  /**
   * A later step (one that depends on this one) that checks in full what this one did, such
   * as a verify step: the runner's checkpoint after this step is left to it, instead of
   * reading the same documents twice. A failure it finds fails the run like the checkpoint's.
   */
  checkedBy: StepId.optional(),
});
export type StepDefinition = z.infer<typeof StepDefinition>;
export type StepDefinitionInput = z.input<typeof StepDefinition>;

export const WorkflowDefinition = z.strictObject({
  id: Name,
  name: Name.optional(),
  description: safe(z.string().max(2000)).optional(),
  maxParallel: z.number().int().min(1).default(4),
  policies: z.strictObject({ services: z.record(Name, PolicyDefinition).optional() }).optional(),
  steps: z.array(StepDefinition).min(1),
});
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;
export type WorkflowDefinitionInput = z.input<typeof WorkflowDefinition>;

const validated = new WeakSet<object>();

/** True for a definition that came out of `defineWorkflow` (so the runner need not parse it again). */
export const isValidatedDefinition = (def: unknown): def is WorkflowDefinition =>
  typeof def === 'object' && def !== null && validated.has(def);

function graphIssues(def: WorkflowDefinition): Issue[] {
  const issues: Issue[] = [];
  const firstIndex = new Map<string, number>();
  def.steps.forEach((s, i) => {
    const seen = firstIndex.get(s.id);
    if (seen === undefined) firstIndex.set(s.id, i);
    else
      issues.push({ path: `steps.${i}.id`, message: `duplicate step id "${s.id}" (also steps.${seen}.id)` });
  });
  const known = [...firstIndex.keys()];
  def.steps.forEach((s, i) => {
    s.dependsOn?.forEach((d, j) => {
      if (!firstIndex.has(d))
        issues.push({
          path: `steps.${i}.dependsOn.${j}`,
          message: `unknown step "${d}"; steps are ${known.map((k) => `"${k}"`).join(', ')}`,
        });
    });
  });
  if (issues.length > 0) return issues;

  const cycle = findCycle(def.steps);
  if (cycle) {
    const at = firstIndex.get(cycle[0] as string) ?? 0;
    return [{ path: `steps.${at}.dependsOn`, message: `dependency cycle ${cycle.join(' → ')}` }];
  }

  const before = ancestors(def.steps);
  def.steps.forEach((s, i) => {
    const upstream = before.get(s.id) ?? new Set<string>();
    const check = (value: unknown, at: string, self: boolean) => {
      for (const r of collectRefs(value, at)) {
        const parsed = parseRef(r.ref);
        if (r.ref === '') {
          issues.push({ path: r.path, message: 'a $ref object must have a string "$ref" and no other keys' });
        } else if (typeof parsed === 'string') {
          issues.push({ path: r.path, message: `invalid $ref ${parsed}` });
        } else if (parsed.source === 'step') {
          const isSelf = self && parsed.stepId === s.id;
          if (parsed.field === 'input' && !isSelf)
            issues.push({
              path: r.path,
              message: `"${r.ref}": only a compensation may refer to an input, and only its own step's`,
            });
          else if (!isSelf && !upstream.has(parsed.stepId))
            issues.push({
              path: r.path,
              message: firstIndex.has(parsed.stepId)
                ? `"${r.ref}": step "${parsed.stepId}" is not upstream of "${s.id}"; add it to dependsOn`
                : `"${r.ref}": unknown step "${parsed.stepId}"`,
            });
        }
      }
    };
    if (s.checkedBy !== undefined && !(before.get(s.checkedBy)?.has(s.id) ?? false))
      issues.push({
        path: `steps.${i}.checkedBy`,
        message: firstIndex.has(s.checkedBy)
          ? `step "${s.checkedBy}" does not depend on "${s.id}": only a later step can check it`
          : `unknown step "${s.checkedBy}"; steps are ${known.map((k) => `"${k}"`).join(', ')}`,
      });
    check(s.input, `steps.${i}.input`, false);
    if (s.compensate) check(s.compensate.input, `steps.${i}.compensate.input`, true);
    if (s.fallback && 'operation' in s.fallback) check(s.fallback.input, `steps.${i}.fallback.input`, false);
  });
  return issues;
}

/**
 * Every string of a definition is recorded in its runs' log as it is (its ids, names,
 * descriptions, `sensitive` names), except its constant inputs and fallback values, which are
 * redacted: none of the others may hold a key or token of a marked format. Checked when a run
 * is started or queued, never when one is read back from its log (a run recorded before must
 * always be recoverable). Throws VALIDATION_FAILED naming each field.
 */
export function assertNoRecordedSecrets(def: WorkflowDefinition): void {
  // A definition is checked once, not at every run of it (a validated one never changes).
  if (secretChecked.has(def)) return;
  const { steps, ...top } = def;
  const recorded = {
    ...top,
    steps: steps.map(({ input: _input, fallback: _fallback, compensate, ...step }) => ({
      ...step,
      ...(compensate ? { compensate: { ...compensate, input: undefined } } : {}),
    })),
  };
  // Keys told by their prefix or structure: a shape alone (40 mixed characters) is an id's too.
  const issues = secretPaths(recorded, '', 0, containsMarkedSecret).map((path) => ({
    path,
    message:
      "looks like an API key or token: a workflow's ids, names and descriptions are recorded as they are; keep secrets in environment variables",
  }));
  if (issues.length)
    throw validationError(`invalid workflow "${printable(def.id)}":\n${formatIssues(issues)}`, issues, {
      kind: 'workflow',
      workflowId: def.id,
    });
  secretChecked.add(def);
}

/** Definitions assertNoRecordedSecrets passed. */
const secretChecked = new WeakSet<WorkflowDefinition>();

/**
 * Validate a workflow definition (schema, then graph: duplicate ids, unknown dependencies,
 * cycles, refs to steps that are not upstream) and return it typed, with defaults filled in.
 * Throws VALIDATION_FAILED whose issues name the path of every problem.
 *
 * @example
 * ```ts
 * const def = defineWorkflow({
 *   id: 'notify',
 *   steps: [{ id: 'send', service: 'mail', operation: 'send', input: { to: 'ada' } }],
 * }); // def.maxParallel is 4: defaults are filled in
 * // From a file: throws VALIDATION_FAILED whose issues name the path of each problem.
 * const fromFile = defineWorkflow(JSON.parse(await readFile('wf.json', 'utf8')));
 * ```
 */
export function defineWorkflow(def: WorkflowDefinitionInput): WorkflowDefinition {
  if (isValidatedDefinition(def)) return def;
  const id = typeof def === 'object' && def !== null && typeof def.id === 'string' ? def.id : undefined;
  const where = id === undefined ? 'invalid workflow' : `invalid workflow "${printable(id)}"`;
  const parsed = WorkflowDefinition.safeParse(def);
  const issues = parsed.success
    ? graphIssues(parsed.data)
    : toIssues(parsed.error, id === undefined ? {} : { entity: printable(id) }, def);
  if (!parsed.success || issues.length > 0)
    throw validationError(`${where}:\n${formatIssues(issues)}`, issues, { kind: 'workflow', workflowId: id });
  validated.add(parsed.data);
  return parsed.data;
}

/**
 * The JSON Schema of a workflow definition, for editors and other languages.
 *
 * @example
 * ```ts
 * await writeFile('workflow.schema.json', JSON.stringify(workflowJsonSchema(), null, 2));
 * ```
 */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkflowDefinition, { io: 'input' }) as Record<string, unknown>;
}
