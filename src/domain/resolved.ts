import { z } from 'zod';
import type { Agent } from './agent.js';
import { ModelSettings } from './agent.js';
import { hashOf } from './canonical.js';
import { EntityId, Meta } from './common.js';
import { BIG_FIVE_TRAITS, effectiveBehaviors, type Personality } from './personality.js';
import type { Role } from './role.js';

/**
 * The model settings an application hands on: the agent's, with `modelId` the provider's
 * canonical id from the catalog (`claude-sonnet-4-20250514`) and `alias` the name the agent
 * was given (`claude-sonnet-4`) when the two differ.
 *
 * @example
 * ```ts
 * const { configuration } = await config.services.files.require('ada');
 * const model: ResolvedModel = configuration.model;
 * model.modelId; // 'gpt-4o-2024-08-06' for an agent that named 'gpt-4o', which is then `model.alias`
 * ```
 */
export const ResolvedModel = ModelSettings.extend({ alias: z.string().min(1).max(200).optional() });
export type ResolvedModel = z.infer<typeof ResolvedModel>;

/**
 * What an application hands to a model: the composed prompt and the model settings.
 *
 * @example
 * ```ts
 * const { configuration } = await config.services.files.require('ada');
 * const { systemPrompt, model } = configuration; // what the provider's client is called with
 * ```
 */
export const ResolvedConfiguration = z.strictObject({
  agentId: EntityId,
  agentName: z.string(),
  personality: z.strictObject({ id: EntityId, revision: z.number().int() }),
  role: z.strictObject({ id: EntityId, revision: z.number().int() }),
  systemPrompt: z.string(),
  model: ResolvedModel,
});
export type ResolvedConfiguration = z.infer<typeof ResolvedConfiguration>;

/**
 * The materialized file `resolved/<agentId>.json`: the configuration and its checksum. An
 * application that only reads the configuration directory can parse the file with it.
 *
 * @example
 * ```ts
 * const text = await readFile('./.troupe-config/resolved/ada.json', 'utf8');
 * const { configuration } = ResolvedFile.parse(JSON.parse(text));
 * ```
 */
export const ResolvedFile = z
  .strictObject({
    id: EntityId,
    checksum: z.string().regex(/^[0-9a-f]{64}$/),
    configuration: ResolvedConfiguration,
  })
  .extend(Meta.shape);
export type ResolvedFile = z.infer<typeof ResolvedFile>;

type AgentParts = Pick<Agent, 'id' | 'name' | 'model'> & { instructions?: string | undefined };

const level = (n: number) =>
  n >= 80 ? 'very high' : n >= 60 ? 'high' : n > 40 ? 'moderate' : n > 20 ? 'low' : 'very low';

/** Composes role, personality and agent into one system prompt; pure and deterministic. */
export function composeSystemPrompt(agent: AgentParts, personality: Personality, role: Role): string {
  const traits = BIG_FIVE_TRAITS.map(
    (t) => `${t} ${level(personality.bigFive[t])} (${personality.bigFive[t]})`,
  ).join(', ');
  const behaviors = Object.entries(effectiveBehaviors(personality))
    .filter(([, v]) => v !== 50)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const c = role.constraints;
  const constraintLines = [
    c.tone ? `Tone: ${c.tone}.` : '',
    c.bannedTopics?.length ? `Do not discuss: ${c.bannedTopics.join(', ')}.` : '',
    c.maxResponseLength ? `Keep responses under ${c.maxResponseLength} characters.` : '',
  ].filter(Boolean);
  return [
    `You are ${agent.name}, acting as ${role.name}.`,
    role.systemPrompt,
    role.capabilities.length ? `Capabilities: ${role.capabilities.join(', ')}.` : '',
    ...constraintLines,
    `Personality "${personality.name}": ${traits}.`,
    behaviors ? `Behaviours (0–100, default 50): ${behaviors}.` : '',
    personality.customInstructions ?? '',
    agent.instructions ?? '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The agent's model settings with the catalog entry's canonical id (see ResolvedModel). */
export function resolveModel(settings: ModelSettings, entry?: { modelId: string }): ResolvedModel {
  if (!entry || entry.modelId === settings.modelId) return settings;
  return { ...settings, modelId: entry.modelId, alias: settings.modelId };
}

/**
 * The resolved configuration of an agent against the given personality, role and catalog
 * entry of its model (without one, the model id stays as the agent names it).
 */
export function resolveConfiguration(
  agent: AgentParts,
  personality: Personality,
  role: Role,
  model?: { modelId: string },
): ResolvedConfiguration {
  return {
    agentId: agent.id,
    agentName: agent.name,
    personality: { id: personality.id, revision: personality.revision },
    role: { id: role.id, revision: role.revision },
    systemPrompt: composeSystemPrompt(agent, personality, role),
    model: resolveModel(agent.model, model),
  };
}

/**
 * The configurationHash: sha256 of the canonical JSON of what a model is handed (agent,
 * prompt, settings). Revisions are left out, so restoring old content restores the old hash.
 */
export const configurationHash = (c: ResolvedConfiguration): string =>
  hashOf({ agentId: c.agentId, agentName: c.agentName, systemPrompt: c.systemPrompt, model: c.model });
