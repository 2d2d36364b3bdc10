import type { AgentInput } from '../domain/agent.js';
import { isTroupeError, type TroupeError } from '../domain/errors.js';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';

export const calm = {
  id: 'calm',
  name: 'Calm',
  bigFive: { openness: 60, conscientiousness: 80, extraversion: 30, agreeableness: 60, neuroticism: 10 },
  behaviors: { humor: 20 },
};

export const reviewer = {
  id: 'reviewer',
  name: 'Reviewer',
  description: 'Reviews code',
  systemPrompt: 'You review code carefully.',
  capabilities: ['code-review'],
};

export const agentInput = (id: string, extra: Partial<AgentInput> = {}): AgentInput => ({
  id,
  name: id.toUpperCase(),
  personalityId: 'calm',
  roleId: 'reviewer',
  model: {
    provider: 'anthropic',
    modelId: 'claude-sonnet-4',
    temperature: 0.3,
    apiKeyEnv: 'ANTHROPIC_API_KEY',
  },
  ...extra,
});

/** A service over a memory store with a clock that ticks one second per call. */
export function setup() {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const now = () => (t += 1000);
  const store = new MemoryStore({ now });
  return { store, config: new ConfigurationService(store, { now }) };
}

/** A memory store seeded with personality calm, role reviewer and agents a1, a2. */
export async function seeded() {
  const env = setup();
  await env.config.createPersonality(calm);
  await env.config.createRole(reviewer);
  await env.config.createAgent({ agent: agentInput('a1') });
  await env.config.createAgent({ agent: agentInput('a2') });
  return env;
}

/** The TroupeError a promise rejects with; fails the test if it resolves. */
export async function failure(p: Promise<unknown>): Promise<TroupeError> {
  try {
    await p;
  } catch (e) {
    if (isTroupeError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}
