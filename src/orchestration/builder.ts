import {
  defineWorkflow,
  type PolicyDefinitionInput,
  type StepDefinitionInput,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from './definition.js';
import type { InputOf, Operations, OperationTable, OutputOf } from './operations.js';
import type { RefObject } from './refs.js';

/** A value as a step input may give it: the value, a `$ref` to it, or its fields given so. */
export type StepInput<I> = 0 extends 1 & I
  ? // biome-ignore lint/suspicious/noExplicitAny: an operation without a schema takes anything.
    any
  :
      | I
      | RefObject
      | (I extends readonly (infer E)[]
          ? StepInput<E>[]
          : I extends object
            ? { [K in keyof I]: StepInput<I[K]> }
            : never);

/** Everything a step can have besides its id, service and operation; `Ops` names what it may call. */
export type StepOptions<In = unknown, Ops extends string = string> = Omit<
  StepDefinitionInput,
  'id' | 'service' | 'operation' | 'input' | 'compensate' | 'fallback'
> & {
  input?: StepInput<In> | undefined;
  compensate?:
    | (Omit<NonNullable<StepDefinitionInput['compensate']>, 'operation'> & { operation: Ops })
    | undefined;
  fallback?: { operation: Ops; input?: unknown } | { value: unknown } | undefined;
};

/** Marks a definition with the type of its outputs; nothing of it exists at run time. */
export type TypedWorkflow<Out> = WorkflowDefinition & { readonly '~outputs'?: Out };

/**
 * Builds a workflow definition in TypeScript; `build()` validates it like `defineWorkflow`.
 * Given operations (`workflow(id, ops)`), services, operations and inputs are checked at
 * compile time and the built definition carries the type of each step's output.
 */
// biome-ignore lint/complexity/noBannedTypes: a builder with no steps yet has no outputs.
export class WorkflowBuilder<T extends OperationTable = OperationTable, Out = {}> {
  readonly #def: { -readonly [K in keyof WorkflowDefinitionInput]: WorkflowDefinitionInput[K] };
  readonly #steps: StepDefinitionInput[] = [];

  constructor(id: string) {
    this.#def = { id, steps: this.#steps };
  }

  name(name: string): this {
    this.#def.name = name;
    return this;
  }

  description(text: string): this {
    this.#def.description = text;
    return this;
  }

  maxParallel(n: number): this {
    this.#def.maxParallel = n;
    return this;
  }

  /** A policy for every step of `service` in this workflow (steps' own fields still win). */
  servicePolicy(service: keyof T & string, policy: PolicyDefinitionInput): this {
    const services = { ...this.#def.policies?.services, [service]: policy };
    this.#def.policies = { services };
    return this;
  }

  step<Id extends string, S extends keyof T & string, O extends keyof T[S] & string>(
    id: Id,
    service: S,
    operation: O,
    opts: StepOptions<InputOf<T, S, O>, keyof T[S] & string> = {},
  ): WorkflowBuilder<T, Out & { [K in Id]: OutputOf<T, S, O> }> {
    this.#steps.push({ id, service, operation, ...(opts as Partial<StepDefinitionInput>) });
    return this as WorkflowBuilder<T, Out & { [K in Id]: OutputOf<T, S, O> }>;
  }

  /** Validate and return the definition; throws VALIDATION_FAILED naming each problem's path. */
  build(): TypedWorkflow<Out> {
    return defineWorkflow({ ...this.#def, steps: [...this.#steps] });
  }
}

/**
 * Start a workflow definition: `workflow('create-agent').step(...).build()`. With the
 * operations it calls (`defineOperations`), or only their type (`workflow<typeof ops.table>(id)`),
 * an unknown operation or a wrong input fails to compile and the result's outputs are typed.
 * @example
 * ```ts
 * const def = workflow('sync-two')
 *   .step('a', 'agent', 'sync', { input: { personalityId: 'calm' } })
 *   .step('b', 'file', 'materialize', { dependsOn: ['a'], input: { agents: stepOutput('a', 'agents') } })
 *   .build(); // validated: an unknown dependency or a cycle throws VALIDATION_FAILED
 * ```
 */
export function workflow<T extends OperationTable = OperationTable>(
  id: string,
  _operations?: Operations<T>,
): WorkflowBuilder<T> {
  return new WorkflowBuilder<T>(id);
}
