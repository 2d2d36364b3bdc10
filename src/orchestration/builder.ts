import {
  defineWorkflow,
  type PolicyDefinitionInput,
  type StepDefinitionInput,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from './definition.js';

/** Everything a step can have besides its id, service and operation. */
export type StepOptions = Omit<StepDefinitionInput, 'id' | 'service' | 'operation'>;

/** Builds a workflow definition in TypeScript; `build()` validates it like `defineWorkflow`. */
export class WorkflowBuilder {
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
  servicePolicy(service: string, policy: PolicyDefinitionInput): this {
    const services = { ...this.#def.policies?.services, [service]: policy };
    this.#def.policies = { services };
    return this;
  }

  step(id: string, service: string, operation: string, opts: StepOptions = {}): this {
    this.#steps.push({ id, service, operation, ...opts });
    return this;
  }

  /** Validate and return the definition; throws VALIDATION_FAILED naming each problem's path. */
  build(): WorkflowDefinition {
    return defineWorkflow({ ...this.#def, steps: [...this.#steps] });
  }
}

/**
 * Start a workflow definition: `workflow('create-agent').step(...).build()`.
 * @example
 * ```ts
 * const def = workflow('sync-two')
 *   .step('a', 'agent', 'sync', { input: { personalityId: 'calm' } })
 *   .step('b', 'file', 'materialize', { dependsOn: ['a'], input: { agents: stepOutput('a', 'agents') } })
 *   .build(); // validated: an unknown dependency or a cycle throws VALIDATION_FAILED
 * ```
 */
export const workflow = (id: string): WorkflowBuilder => new WorkflowBuilder(id);
