import { z } from 'zod';
import { between, EntityId, FreeText, Meta } from './common.js';
import { Provider } from './model.js';
import { looksLikeSecret } from './secrets.js';

export const EnvVarName = z
  .string()
  .max(128)
  .refine((v) => !looksLikeSecret(v), {
    message:
      'looks like an API key: give the NAME of an environment variable (e.g. "OPENAI_API_KEY"), never the key',
  })
  .refine((v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v), {
    message: 'must be an environment variable name: letters, digits and underscores, e.g. "OPENAI_API_KEY"',
  });

/**
 * The model settings of an agent: provider, model id and sampling parameters, each range-checked.
 * `apiKeyEnv` names an environment variable that holds the key; a key itself is refused.
 *
 * @example
 * ```ts
 * const settings = ModelSettings.parse({ provider: 'anthropic', modelId: 'claude-sonnet-4', temperature: 0.3 });
 * ModelSettings.safeParse({ ...settings, temperature: 3 }).success; // false: temperature is 0–2
 * ```
 */
export const ModelSettings = z.strictObject({
  provider: Provider,
  modelId: z.string().min(1).max(200),
  // Optional, as every sampling parameter: a model that takes none (a reasoning model) gets none.
  temperature: between(0, 2).optional(),
  maxTokens: between(1, 2_000_000, { int: true }).optional(),
  topP: between(0, 1).optional(),
  frequencyPenalty: between(-2, 2).optional(),
  presencePenalty: between(-2, 2).optional(),
  stop: z.array(z.string().max(100)).max(16).optional(),
  apiKeyEnv: EnvVarName.optional(),
  baseUrl: z.url().optional(),
});
export type ModelSettings = z.infer<typeof ModelSettings>;

export const SYNC_STATUSES = ['synchronized', 'stale'] as const;

/**
 * What a person writes for an agent: a name, the ids of its personality and role, and its model
 * settings. The id may be left out (it becomes the slug of the name).
 *
 * @example
 * ```ts
 * const input: AgentInput = {
 *   name: 'Ada',
 *   personalityId: 'calm-analyst',
 *   roleId: 'developer',
 *   model: { provider: 'openai', modelId: 'gpt-4o', temperature: 0.2 },
 * };
 * const { agent } = await config.createAgent({ agent: input }); // id "ada"
 * ```
 */
export const AgentInput = z.strictObject({
  $schema: z.string().optional(),
  id: EntityId.optional(),
  name: z.string().trim().min(1).max(100),
  description: FreeText(1000).optional(),
  personalityId: EntityId,
  roleId: EntityId,
  model: ModelSettings,
  instructions: FreeText(20_000).optional(),
});
export type AgentInput = z.input<typeof AgentInput>;

/** What the agent was composed against; kept by AgentService, not written by hand. */
export const Composition = z.object({
  personalityVersion: z.number().int().min(0),
  roleVersion: z.number().int().min(0),
  configurationHash: z.string().regex(/^[0-9a-f]{64}$/),
  syncStatus: z.enum(SYNC_STATUSES),
  /** Content hashes of the personality, role and model entry composed against (absent in older files). */
  personalityHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  roleHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  modelHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type Composition = z.infer<typeof Composition>;

/**
 * A stored agent: the input with its id fixed, what it was composed against (the revisions and
 * content hashes of its personality, role and model, its configurationHash) and the store's metadata.
 *
 * @example
 * ```ts
 * const ada: Agent = await config.services.agents.require('ada');
 * console.log(ada.personalityVersion, ada.roleVersion, ada.syncStatus); // 1 1 'synchronized'
 * ```
 */
export const Agent = AgentInput.omit({ $schema: true })
  .extend({ id: EntityId })
  .extend(Composition.shape)
  .extend(Meta.shape);
export type Agent = z.infer<typeof Agent>;
