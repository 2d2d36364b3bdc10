import type { AgentInput } from '../domain/agent.js';
import type { PersonalityInput } from '../domain/personality.js';
import type { RoleInput } from '../domain/role.js';
import { deepFreeze } from '../services/entity-service.js';

// The samples are frozen: every test shares them, so one that changed a sample would change
// the next test's input. Spread one to vary it (`{ ...samplePersonality, id: 'warm' }`).

/**
 * A valid personality input: calm, conscientious, a little humour. Its id is `calm`.
 *
 * @example
 * ```ts
 * await tc.drive(tc.config.createPersonality(samplePersonality));
 * await tc.drive(tc.config.createPersonality({ ...samplePersonality, id: 'warm', name: 'Warm' }));
 * ```
 */
export const samplePersonality = deepFreeze({
  id: 'calm',
  name: 'Calm',
  bigFive: { openness: 60, conscientiousness: 80, extraversion: 30, agreeableness: 60, neuroticism: 10 },
  behaviors: { humor: 20 },
} satisfies PersonalityInput);

/**
 * A valid custom role input (not one of the predefined roles). Its id is `reviewer`.
 *
 * @example
 * ```ts
 * await tc.drive(tc.config.createRole(sampleRole));
 * ```
 */
export const sampleRole = deepFreeze({
  id: 'reviewer',
  name: 'Reviewer',
  description: 'Reviews code',
  systemPrompt: 'You review code carefully.',
  capabilities: ['code-review'],
} satisfies RoleInput);

/**
 * A valid agent input using `samplePersonality` and `sampleRole` on a catalog model; create those
 * two first. `overrides` replace fields of the result.
 *
 * @example
 * ```ts
 * await tc.drive(tc.config.createPersonality(samplePersonality));
 * await tc.drive(tc.config.createRole(sampleRole));
 * await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada', { instructions: 'Be brief.' }) }));
 * ```
 */
export function sampleAgent(id: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    id,
    name: id.toUpperCase(),
    personalityId: samplePersonality.id,
    roleId: sampleRole.id,
    model: {
      provider: 'anthropic',
      modelId: 'claude-sonnet-4',
      temperature: 0.3,
      apiKeyEnv: 'ANTHROPIC_API_KEY',
    },
    ...overrides,
  };
}
