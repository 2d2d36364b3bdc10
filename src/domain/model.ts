import { z } from 'zod';
import { EntityId, Meta } from './common.js';
import { Capability } from './role.js';

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

/** A model in the catalog; found by `id`, its dated `modelId`, or any alias. */
export const ModelInput = z.strictObject({
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
export type ModelInput = z.input<typeof ModelInput>;

export const Model = ModelInput.omit({ $schema: true }).extend({ id: EntityId }).extend(Meta.partial().shape);
export type Model = z.infer<typeof Model>;
