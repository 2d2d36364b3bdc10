import { describe, expect, it } from 'vitest';
import { ConfigurationService, fromOutside, MemoryStore } from '../../src/index.js';

/**
 * The library's inputs are typed: each `@ts-expect-error` below is a mistake that must not
 * compile (`npm test` type-checks this file; a directive with no error under it fails the
 * check). The calls also run, and fail at run time as well, naming the field.
 */
describe('the library does what the CLI does beyond parsing', () => {
  it("a model named without its provider gets the catalog's, on create and on update", async () => {
    const c = new ConfigurationService(new MemoryStore());
    await c.createPersonality({
      name: 'Calm',
      bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
    });
    const base = { name: 'Ada', personalityId: 'calm', roleId: 'developer' } as const;
    const { agent } = await c.createAgent({ agent: { ...base, model: { modelId: 'gpt-4o' } } });
    expect(agent.model).toEqual({ provider: 'openai', modelId: 'gpt-4o' });
    const moved = await c.updateAgent('ada', { model: { modelId: 'claude-sonnet-4' } });
    expect(moved.agent.model).toEqual({ provider: 'anthropic', modelId: 'claude-sonnet-4' });
    await expect(
      c.createAgent({ agent: { ...base, id: 'bo', model: { modelId: 'gpt-40' } } }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/model\.modelId: .*did you mean "gpt-4o"/),
    });
  });
});

describe('preset merging is a library call', () => {
  it('overrides merge over the preset as a merge patch; a new name gives a new id; the CLI does the same', async () => {
    const c = new ConfigurationService(new MemoryStore());
    const preset = c.services.personalities.presets().find((p) => p.id === 'calm-analyst');
    const calm = await c.createPersonality({ bigFive: { openness: 95 } }, { preset: 'calm-analyst' });
    expect(calm.id).toBe('calm-analyst');
    expect(calm.bigFive).toEqual({ ...preset?.bigFive, openness: 95 });
    expect(calm.behaviors).toEqual(preset?.behaviors);
    const mine = await c.createPersonality({ name: 'My Analyst' }, { preset: 'calm-analyst' });
    expect([mine.id, mine.name, mine.bigFive]).toEqual(['my-analyst', 'My Analyst', preset?.bigFive]);
    await expect(c.createPersonality({}, { preset: 'calm-analist' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('did you mean "calm-analyst"'),
    });
    const typo = { bigFive: { openess: 1 } };
    // @ts-expect-error: "openess" is no Big Five trait, in a preset's overrides too
    const mistaken = c.createPersonality(typo, { preset: 'warm-coach' });
    await expect(mistaken).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('sync states are a library call', () => {
  it('an agent whose personality was changed behind its back is stale, with what drifted', async () => {
    const store = new MemoryStore();
    const c = new ConfigurationService(store);
    await c.createPersonality({
      name: 'Calm',
      bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
    });
    await c.createAgent({
      agent: { name: 'Ada', personalityId: 'calm', roleId: 'developer', model: { modelId: 'gpt-4o' } },
    });
    expect((await c.syncStates()).get('ada')).toEqual({ state: 'synchronized', drift: [] });
    // A write that bypasses the service (a hand edit, another tool): nothing re-composed Ada.
    const p = (await store.get('personalities', 'calm'))!;
    await store.put('personalities', { ...p, name: 'Calmer' });
    const judged = (await c.syncStates()).get('ada')!;
    expect(judged.state).toBe('stale');
    expect(judged.drift.join(' ')).toMatch(/personality "calm"/);
  });
});

describe('a typed library: a typo fails to compile', () => {
  const config = () => new ConfigurationService(new MemoryStore());
  const bigFive = {
    openness: 60,
    conscientiousness: 70,
    extraversion: 40,
    agreeableness: 60,
    neuroticism: 20,
  };

  it('createPersonality takes PersonalityInput', async () => {
    await expect(
      config().createPersonality({
        name: 'Calm',
        // @ts-expect-error: "openess" is no Big Five trait
        bigFive: { openess: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(config().createPersonality({ name: 'Calm', bigFive })).resolves.toMatchObject({
      id: 'calm',
    });
  });

  it('createAgent takes a provider from the list, and updates take merge patches of the right fields', async () => {
    const c = config();
    await c.createPersonality({ name: 'Calm', bigFive });
    const agent = { name: 'Ada', personalityId: 'calm', roleId: 'developer' } as const;
    await expect(
      // @ts-expect-error: "anthropik" is no provider
      c.createAgent({ agent: { ...agent, model: { provider: 'anthropik', modelId: 'claude-sonnet-4' } } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await c.createAgent({
      agent: { ...agent, model: { provider: 'anthropic', modelId: 'claude-sonnet-4' } },
    });
    // @ts-expect-error: an agent has no "colour"
    await expect(c.updateAgent('ada', { colour: 'red' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    // null removes a field: part of the patch type.
    await c.updateAgent('ada', { model: { temperature: 0.2 } });
    const r = await c.updateAgent('ada', { model: { temperature: null } });
    expect(r.agent.model).not.toHaveProperty('temperature');
    // Data from outside (a file, a fixture) is handed over as it is, and checked at run time.
    await expect(c.applyBundle(fromOutside({ agents: [{ name: 7 }] }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
