import type { z } from 'zod';
import { toIssues } from '../domain/common.js';
import { type Issue, validationError } from '../domain/errors.js';
import type { Handler, ServiceHandlers, StepContext } from './handlers.js';
import { hasRefs } from './refs.js';

/**
 * One operation of a service: the schema of what it takes, the code, and optionally the schema
 * of what it returns. The input is checked against its schema before the handler runs; the
 * output's type (the schema's, else the handler's) is what the typed builder and `RunResult`
 * give the step's output.
 */
export interface Operation<In extends z.ZodType = z.ZodType, Result = unknown> {
  input: In;
  output?: z.ZodType<Result> | undefined;
  handler: (input: z.output<In>, ctx: StepContext) => Promise<Result>;
}

/**
 * Declares one operation; the handler's input is typed by the input schema. Operations are
 * grouped by service with `defineOperations`.
 *
 * @example
 * ```ts
 * const send = operation({
 *   input: z.object({ to: z.string() }),
 *   handler: async ({ to }, ctx) => ({ id: `${ctx.runId}-${to}` }),
 * });
 * const ops = defineOperations({ mail: { send } });
 * ```
 */
export const operation = <In extends z.ZodType, Result>(op: Operation<In, Result>): Operation<In, Result> =>
  op;

/** Operations by service, then by name. */
// biome-ignore lint/suspicious/noExplicitAny: each operation has its own schemas; `Operation<any, any>` admits them all.
export type OperationTable = Record<string, Record<string, Operation<any, any>>>;

/** A table of operations as the runner takes it: the handlers, and the schemas for `validate`. */
export interface Operations<T extends OperationTable = OperationTable> {
  readonly table: T;
  /** What the runner dispatches to: each handler behind its input check. */
  readonly handlers: ServiceHandlers;
}

/** What a step of `service.operation` takes (before refs are resolved: see `StepInput`). */
export type InputOf<T extends OperationTable, S extends keyof T, O extends keyof T[S]> = z.input<
  T[S][O]['input']
>;
/** What a step of `service.operation` returns. */
export type OutputOf<T extends OperationTable, S extends keyof T, O extends keyof T[S]> =
  T[S][O] extends Operation<z.ZodType, infer R> ? R : unknown;

/** The input check in front of a handler: VALIDATION_FAILED naming the step and each field. */
function checked(service: string, name: string, op: Operation): Handler {
  return (input, ctx) => {
    const r = op.input.safeParse(input);
    if (!r.success) {
      const issues = toIssues(r.error, {}, input).map((i) => ({ ...i, path: `input.${i.path}` }));
      throw Object.assign(
        validationError(
          `step "${ctx.stepId}" (${service}.${name}): ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues,
          { service, operation: name, stepId: ctx.stepId },
        ),
        { retryable: false },
      );
    }
    return op.handler(r.data, ctx);
  };
}

/**
 * Declares operations once, with their input and output schemas. The result goes to the runner
 * (`new WorkflowRunner({ services: ops })`) and types the builder (`workflow('id', ops)`), so a
 * step naming an unknown operation, or giving an operation the wrong input, fails to compile.
 *
 * @example
 * ```ts
 * const ops = defineOperations({
 *   greeter: {
 *     greet: operation({
 *       input: z.object({ name: z.string() }),
 *       output: z.object({ text: z.string() }),
 *       handler: async ({ name }) => ({ text: `hello ${name}` }),
 *     }),
 *   },
 * });
 * const def = workflow('hello', ops).step('greet', 'greeter', 'greet', { input: { name: 'Ada' } }).build();
 * const result = await new WorkflowRunner({ services: ops, runLog: new MemoryRunLog() }).run(def, {});
 * result.outputs.greet?.text; // string
 * ```
 */
export function defineOperations<const T extends OperationTable>(table: T): Operations<T> {
  const handlers: ServiceHandlers = {};
  for (const [service, ops] of Object.entries(table)) {
    handlers[service] = {};
    for (const [name, op] of Object.entries(ops)) handlers[service][name] = checked(service, name, op);
  }
  return { table, handlers };
}

/** True for what `defineOperations` returns (as opposed to a plain handler table). */
export const isOperations = (v: ServiceHandlers | Operations): v is Operations =>
  'table' in v && 'handlers' in v && typeof v.handlers === 'object' && typeof v.table === 'object';

/** The handlers of either form the runner accepts. */
export const handlersOf = (v: ServiceHandlers | Operations): ServiceHandlers =>
  isOperations(v) ? v.handlers : v;

/**
 * What can be known of a step's input before the run: each top-level field given as a plain
 * value (no `$ref` in it) is checked against the operation's schema. Fields fed by refs are
 * checked when the step runs.
 */
export function literalInputIssues(op: Operation, input: unknown, at: string): Issue[] {
  if (!hasRefs(input)) {
    const r = op.input.safeParse(input);
    return r.success ? [] : prefixed(toIssues(r.error, {}, input), at);
  }
  const shape = (op.input as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape || typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(input)) {
    const field = shape[key];
    if (!field || hasRefs(value)) continue;
    const r = field.safeParse(value);
    if (!r.success) issues.push(...prefixed(toIssues(r.error, {}, value), `${at}.${key}`));
  }
  return issues;
}

const prefixed = (issues: Issue[], at: string): Issue[] =>
  issues.map((i) => ({ ...i, path: i.path === '(root)' ? at : `${at}.${i.path}` }));
