import type { AgentInput } from '../domain/agent.js';
import type { ModelInput } from '../domain/model.js';
import type { PersonalityInput } from '../domain/personality.js';
import type { RoleInput } from '../domain/role.js';

/**
 * A JSON merge patch (RFC 7386) of T, as a type: any field may be given, objects recurse,
 * arrays are replaced whole, and `null` removes a field. A typo fails to compile.
 */
export type MergePatch<T> = {
  [K in keyof T]?:
    | (NonNullable<T[K]> extends readonly unknown[]
        ? T[K]
        : NonNullable<T[K]> extends object
          ? MergePatch<NonNullable<T[K]>>
          : T[K])
    | null;
};

/**
 * A new agent: its personality and role may come with it instead (see CreateAgentRequest), and
 * its model may be named without a provider (the catalog's is taken).
 */
export type NewAgent = Omit<AgentInput, 'personalityId' | 'roleId' | 'model'> &
  Partial<Pick<AgentInput, 'personalityId' | 'roleId'>> & {
    model: Omit<AgentInput['model'], 'provider'> & Partial<Pick<AgentInput['model'], 'provider'>>;
  };

/** A bundle, as `troupe apply` reads it: every list optional. */
export interface TroupeBundle {
  personalities?: PersonalityInput[];
  roles?: RoleInput[];
  models?: ModelInput[];
  agents?: AgentInput[];
}

export type { AgentInput, ModelInput, PersonalityInput, RoleInput };

/**
 * Data read from a file, a fixture or a generator, handed to a typed call as it is: the library
 * validates it at run time either way, naming file, entity and field of every problem.
 *
 * @example
 * ```ts
 * const bundle = fromOutside<TroupeBundle>(JSON.parse(await readFile('cast.json', 'utf8')));
 * await config.applyBundle(bundle, { file: 'cast.json' }); // VALIDATION_FAILED names each bad field
 * ```
 */
export const fromOutside = <T>(value: unknown): T => value as T;
