import { z } from 'zod';
import { AgentInput } from './agent.js';
import { ModelInput } from './model.js';
import { PersonalityInput } from './personality.js';
import { RoleInput } from './role.js';

/** The input schemas a person writes files against, by entity name. */
export const INPUT_SCHEMAS = {
  personality: PersonalityInput,
  role: RoleInput,
  agent: AgentInput,
  model: ModelInput,
} as const;

export type SchemaName = keyof typeof INPUT_SCHEMAS;

const TITLES: Record<SchemaName, string> = {
  personality: 'Troupe personality',
  role: 'Troupe role',
  agent: 'Troupe agent',
  model: 'Troupe model catalog entry',
};

/** A JSON Schema (draft 2020-12) of what a person may write; used by editors to autocomplete. */
export function toInputJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  return { title, ...(z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>) };
}

/**
 * JSON Schemas of the personality, role, agent and model file formats, keyed by entity name, for
 * editors to check and complete the files a person writes.
 *
 * @example
 * ```ts
 * for (const [name, schema] of Object.entries(jsonSchemas()))
 *   await writeFile(`schemas/${name}.schema.json`, JSON.stringify(schema, null, 2));
 * ```
 */
export function jsonSchemas(): Record<SchemaName, Record<string, unknown>> {
  const out = {} as Record<SchemaName, Record<string, unknown>>;
  for (const name of Object.keys(INPUT_SCHEMAS) as SchemaName[]) {
    out[name] = toInputJsonSchema(INPUT_SCHEMAS[name], TITLES[name]);
  }
  return out;
}
