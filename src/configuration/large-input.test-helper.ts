import type { TroupeBundle } from './inputs.js';
/** Written into every role of the large bundle, so a copy of it anywhere can be found. */
export const MARKER = 'large-bundle-marker-2f1c';

/** 400 agents over 20 personalities and 20 roles: about 330 KB of JSON, past the inline limit. */
export function largeBundle(): TroupeBundle {
  const bigFive = {
    openness: 60,
    conscientiousness: 70,
    extraversion: 40,
    agreeableness: 60,
    neuroticism: 20,
  };
  return {
    personalities: [...Array(20).keys()].map((i) => ({ id: `p${i}`, name: `P${i}`, bigFive })),
    roles: [...Array(20).keys()].map((i) => ({
      id: `r${i}`,
      name: `R${i}`,
      systemPrompt: `${MARKER} ${'Review the code carefully and explain every finding. '.repeat(8)}`,
    })),
    agents: [...Array(400).keys()].map((i) => ({
      id: `a${i}`,
      name: `Agent number ${i}`,
      description: `${MARKER} ${'An agent of the large bundle. '.repeat(20)}`,
      personalityId: `p${i % 20}`,
      roleId: `r${i % 20}`,
      model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
    })),
  };
}
