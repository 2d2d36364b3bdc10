import { z } from 'zod';
import { EntityId, Meta } from './common.js';
import { Capability } from './role.js';

/**
 * The model providers an agent's model settings and a catalog entry may name.
 *
 * @example
 * ```ts
 * const provider: Provider = (PROVIDERS as readonly string[]).includes(arg) ? (arg as Provider) : 'custom';
 * ```
 */
export const PROVIDERS = [
  'openai',
  'anthropic',
  'google',
  'mistral',
  'ollama',
  'azure-openai',
  'custom',
] as const;
export const Provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof Provider>;

/** The sampling parameters an agent's model settings may carry, as ModelSettings names them. */
export const SAMPLING_PARAMETERS = [
  'temperature',
  'topP',
  'frequencyPenalty',
  'presencePenalty',
  'stop',
] as const;
export type SamplingParameter = (typeof SAMPLING_PARAMETERS)[number];

/**
 * A model in the catalog; found by `id`, its dated `modelId`, or any alias. The id may be left
 * out (it becomes the slug of the name).
 *
 * @example
 * ```ts
 * const qwen = await config.createModel({
 *   provider: 'ollama',
 *   modelId: 'qwen3:8b',
 *   name: 'Qwen 3 8B',
 *   aliases: ['qwen3'],
 *   contextWindow: 32_768,
 * }); // id "qwen-3-8b"
 * ```
 */
const ModelFields = z.strictObject({
  $schema: z.string().optional(),
  id: EntityId.optional(),
  provider: Provider,
  modelId: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  aliases: z.array(z.string().min(1).max(200)).default([]),
  contextWindow: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive().optional(),
  capabilities: z.array(Capability).default([]),
  /**
   * The sampling parameters the model accepts (a reasoning model rejects temperature and top-p);
   * absent: every one of them.
   */
  parameters: z.array(z.enum(SAMPLING_PARAMETERS)).optional(),
});

/** What a model writes comes out of its context window: it cannot allow more output than that. */
const outputWithinWindow = (
  m: { contextWindow: number; maxOutputTokens?: number | undefined },
  ctx: z.RefinementCtx,
) => {
  if (m.maxOutputTokens !== undefined && m.maxOutputTokens > m.contextWindow)
    ctx.addIssue({
      code: 'custom',
      path: ['maxOutputTokens'],
      message: `must not exceed the context window (${m.contextWindow} tokens), got ${m.maxOutputTokens}`,
    });
};

export const ModelInput = ModelFields.superRefine(outputWithinWindow);
export type ModelInput = z.input<typeof ModelInput>;

/**
 * A catalog entry as read: the input with its id fixed. Entries the user added carry the store's
 * metadata; shipped entries carry none.
 *
 * @example
 * ```ts
 * const sonnet: Model | undefined = await config.services.models.find('claude-sonnet-4', 'anthropic');
 * sonnet?.modelId; // 'claude-sonnet-4-20250514'
 * ```
 */
export const Model = ModelFields.omit({ $schema: true })
  .extend({ id: EntityId })
  .extend(Meta.partial().shape)
  .superRefine(outputWithinWindow);
export type Model = z.infer<typeof Model>;
