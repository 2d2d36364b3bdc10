import { TroupeError } from '../domain/errors.js';

/** `{ "$ref": "steps.<id>.output.<path>" }` or `{ "$ref": "input.<path>" }` inside a step's input. */
// A type alias (not an interface) so a ref fits where a JSON value is expected.
export type RefObject = { $ref: string };

export type ParsedRef =
  | { source: 'input'; path: string[] }
  | { source: 'step'; stepId: string; field: 'output' | 'input'; path: string[] };

/** What refs resolve against: the workflow input and the recorded input/output of steps. */
export interface RefScope {
  input: unknown;
  steps: ReadonlyMap<string, { input: unknown; output: unknown }>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for an object whose only key is a string `$ref`. */
export function isRef(v: unknown): v is RefObject {
  if (!isPlainObject(v) || typeof v.$ref !== 'string') return false;
  for (const k in v) if (k !== '$ref') return false;
  return true;
}

/** Build a ref object: `ref('steps.create.output.id')`. */
export const ref = (path: string): RefObject => ({ $ref: path });

/**
 * A ref to a step's output (or a field of it): `stepOutput('create', 'agent.id')`. The step must
 * be upstream of the one that uses the ref (in its `dependsOn`, directly or not).
 *
 * @example
 * ```ts
 * const def = workflow('welcome')
 *   .step('user', 'users', 'create', { input: { name: workflowInput('name') } })
 *   .step('mail', 'mail', 'send', { dependsOn: ['user'], input: { to: stepOutput('user', 'email') } })
 *   .build();
 * ```
 */
export const stepOutput = (stepId: string, path?: string): RefObject =>
  ref(`steps.${stepId}.output${path ? `.${path}` : ''}`);

/**
 * A ref to the workflow input (or a field of it), resolved when the step runs: a field the input
 * lacks fails the step with VALIDATION_FAILED (`ConfigurationService.runWorkflow` checks every
 * such ref before the run starts).
 *
 * @example
 * ```ts
 * const def = workflow('welcome')
 *   .step('user', 'users', 'create', { input: { name: workflowInput('name') } })
 *   .build();
 * await runner.run(def, { name: 'Ada' }); // the step gets { name: 'Ada' }
 * ```
 */
export const workflowInput = (path?: string): RefObject => ref(`input${path ? `.${path}` : ''}`);

/** Parse a `$ref` string; returns a message instead when it is malformed. */
export function parseRef(text: string): ParsedRef | string {
  const parts = text.split('.');
  if (parts.some((p) => p === '')) return `"${text}" has an empty path segment`;
  if (parts[0] === 'input') return { source: 'input', path: parts.slice(1) };
  if (parts[0] === 'steps') {
    const stepId = parts[1];
    const field = parts[2];
    if (stepId === undefined || (field !== 'output' && field !== 'input'))
      return `"${text}" must look like "steps.<stepId>.output[.<path>]"`;
    return { source: 'step', stepId, field, path: parts.slice(3) };
  }
  return `"${text}" must start with "steps." or "input"`;
}

/** Every `$ref` inside a value, with the dotted path where it sits; also flags malformed ref objects. */
export function collectRefs(value: unknown, at: string): Array<{ path: string; ref: string }> {
  const out: Array<{ path: string; ref: string }> = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        walk(item, `${path}.${i}`);
      });
    } else if (isPlainObject(v)) {
      if ('$ref' in v) {
        out.push({ path: `${path}.$ref`, ref: typeof v.$ref === 'string' && isRef(v) ? v.$ref : '' });
        return;
      }
      for (const [k, item] of Object.entries(v)) walk(item, `${path}.${k}`);
    }
  };
  walk(value, at);
  return out;
}

/** True if a value contains any `$ref` (cheap pre-check so plain inputs are passed through as is). */
export function hasRefs(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasRefs);
  if (!isPlainObject(value)) return false;
  if ('$ref' in value) return true;
  for (const k in value) if (hasRefs(value[k])) return true;
  return false;
}

function follow(root: unknown, path: string[], text: string, where: string): unknown {
  let cur = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string;
    const ok =
      (Array.isArray(cur) && /^\d+$/.test(key) && Number(key) < cur.length) ||
      (isPlainObject(cur) && Object.hasOwn(cur, key));
    if (!ok) {
      const reached = path.slice(0, i).join('.') || '(root)';
      throw new TroupeError(
        'VALIDATION_FAILED',
        `${where}: cannot resolve $ref "${text}": ${reached} has no field "${key}"`,
        { context: { ref: text, missing: key }, retryable: false },
      );
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Resolve one parsed ref against a scope; throws VALIDATION_FAILED naming the ref when it cannot. */
export function resolveRef(text: string, scope: RefScope, where: string): unknown {
  const parsed = parseRef(text);
  if (typeof parsed === 'string')
    throw new TroupeError('VALIDATION_FAILED', `${where}: invalid $ref ${parsed}`);
  if (parsed.source === 'input') return follow(scope.input, parsed.path, text, where);
  const step = scope.steps.get(parsed.stepId);
  if (step === undefined)
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${where}: $ref "${text}": step "${parsed.stepId}" has no result`,
      {
        context: { ref: text },
      },
    );
  return follow(step[parsed.field], parsed.path, text, where);
}

/** A copy of `value` with every `$ref` object replaced by what it points to. */
export function resolveRefs(value: unknown, scope: RefScope, where: string): unknown {
  if (!hasRefs(value)) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    if (isRef(v)) return resolveRef(v.$ref, scope, where);
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = walk(item);
    return out;
  };
  return walk(value);
}

/**
 * Every `input.…` ref of a workflow's steps (their inputs, fallbacks and compensations) that
 * the given input cannot satisfy: checked before a run starts, so a missing input fails the
 * run at once (or its dry run), not halfway after earlier steps wrote.
 */
export function inputGaps(
  steps: ReadonlyArray<{
    id: string;
    input?: unknown;
    compensate?: { input?: unknown } | undefined;
    fallback?: unknown;
  }>,
  input: unknown,
): Array<{ path: string; message: string }> {
  const gaps: Array<{ path: string; message: string }> = [];
  steps.forEach((s, i) => {
    const fallback = isPlainObject(s.fallback) ? s.fallback.input : undefined;
    const refs = [
      ...collectRefs(s.input, `steps.${i}.input`),
      ...collectRefs(s.compensate?.input, `steps.${i}.compensate.input`),
      ...collectRefs(fallback, `steps.${i}.fallback.input`),
    ];
    for (const r of refs) {
      const parsed = parseRef(r.ref);
      if (typeof parsed === 'string' || parsed.source !== 'input') continue;
      try {
        follow(input, parsed.path, r.ref, `step "${s.id}"`);
      } catch {
        gaps.push({
          path: r.path,
          message: `step "${s.id}" needs "${r.ref}", which the workflow input does not give`,
        });
      }
    }
  });
  return gaps;
}
