import { describe, expect, it } from 'vitest';
import { AgentInput } from './agent.js';
import { parseOrThrow, slugify, toIssues } from './common.js';
import { isTroupeError } from './errors.js';
import { PersonalityInput } from './personality.js';

const base = {
  name: 'Calm',
  bigFive: { openness: 50, conscientiousness: 60, extraversion: 40, agreeableness: 70, neuroticism: 20 },
};

const issuesOf = (schema: typeof PersonalityInput | typeof AgentInput, v: unknown) => {
  try {
    parseOrThrow(schema, v, { kind: 'personality', file: 'personalities/calm.json' });
  } catch (e) {
    if (isTroupeError(e)) return { message: e.message, issues: e.issues };
    throw e;
  }
  return { message: '', issues: [] };
};

describe('personality schema', () => {
  it('accepts all five traits and optional behaviours', () => {
    expect(PersonalityInput.parse({ ...base, behaviors: { humor: 80 } }).behaviors).toEqual({ humor: 80 });
  });

  it.each([
    [{ openness: 170 }, 'bigFive.openness', 'must be an integer 0–100, got 170'],
    [{ openness: -1 }, 'bigFive.openness', 'got -1'],
    [{ openness: 50.5 }, 'bigFive.openness', 'got 50.5'],
    [{ openness: 'high' }, 'bigFive.openness', 'got "high"'],
  ])('names the trait when %j is out of range', (patch, path, msg) => {
    const r = issuesOf(PersonalityInput, { ...base, bigFive: { ...base.bigFive, ...patch } });
    expect(r.issues[0]).toMatchObject({ path, file: 'personalities/calm.json' });
    expect(r.issues[0]!.message).toContain(msg);
    expect(r.message).toContain('personalities/calm.json');
  });

  it('requires all five Big Five traits, naming the missing one', () => {
    const { neuroticism: _n, ...four } = base.bigFive;
    expect(issuesOf(PersonalityInput, { ...base, bigFive: four }).issues[0]).toMatchObject({
      path: 'bigFive.neuroticism',
      message: 'is required',
    });
  });

  it('refuses unknown traits and fields by name', () => {
    expect(issuesOf(PersonalityInput, { ...base, behaviors: { humour: 50 } }).issues[0]).toMatchObject({
      path: 'behaviors',
      message: 'unknown field "humour"',
    });
    expect(issuesOf(PersonalityInput, { ...base, colour: 'red' }).issues[0]!.message).toBe(
      'unknown field "colour"',
    );
  });
});

describe('agent schema', () => {
  const agent = {
    name: 'A',
    personalityId: 'p',
    roleId: 'r',
    model: { provider: 'openai', modelId: 'gpt-4o' },
  };
  it('accepts a long upper-case environment variable name', () => {
    const name = 'ACME_PRODUCTION_OPENAI_API_KEY_V2';
    expect(AgentInput.parse({ ...agent, model: { ...agent.model, apiKeyEnv: name } }).model.apiKeyEnv).toBe(
      name,
    );
  });
  it('accepts an environment variable name for the API key', () => {
    expect(
      AgentInput.parse({ ...agent, model: { ...agent.model, apiKeyEnv: 'OPENAI_API_KEY' } }).model.apiKeyEnv,
    ).toBe('OPENAI_API_KEY');
  });
  it.each([
    'sk-proj-abcdefghijklmnop',
    'AIzaSyA1234567890abcdefghijklmnopqrstu',
    'abcdefghijklmnopqrstuvwxyz0123456789ABCD',
  ])('refuses a value that looks like a key: %s', (key) => {
    const r = issuesOf(AgentInput, { ...agent, model: { ...agent.model, apiKeyEnv: key } });
    expect(r.issues[0]).toMatchObject({ path: 'model.apiKeyEnv' });
    expect(r.issues[0]!.message).toMatch(/looks like an API key/);
    expect(r.message).not.toContain(key);
  });
  it('refuses temperature above 2', () => {
    expect(
      issuesOf(AgentInput, { ...agent, model: { ...agent.model, temperature: 3 } }).issues[0]!.path,
    ).toBe('model.temperature');
  });
});

describe('slugify', () => {
  it.each([
    ['Calm Analyst', 'calm-analyst'],
    ['  Héllo,  World!! ', 'hello-world'],
    ['../etc/passwd', 'etc-passwd'],
  ])('%j → %j', (name, slug) => expect(slugify(name)).toBe(slug));
});

describe('model settings ranges', () => {
  it('say the range and the value given', () => {
    const agent = {
      name: 'A',
      personalityId: 'p',
      roleId: 'r',
      model: { provider: 'openai', modelId: 'gpt-4o' },
    };
    const r = AgentInput.safeParse({ ...agent, model: { ...agent.model, temperature: 3, maxTokens: 1.5 } });
    expect(r.success).toBe(false);
    const messages = Object.fromEntries(r.error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(messages).toEqual({
      'model.temperature': 'must be a number 0–2, got 3',
      'model.maxTokens': 'must be an integer 1–2000000, got 1.5',
    });
  });

  it('a value two checks refuse in the same words is said once', () => {
    const input = {
      name: 'A',
      personalityId: 'p',
      roleId: 'r',
      model: { provider: 'openai', modelId: 'gpt-4o', maxTokens: 2 ** 53 },
    };
    const r = AgentInput.safeParse(input);
    expect(r.error!.issues.length).toBeGreaterThan(1); // not safe, and past the maximum
    expect(toIssues(r.error!, {}, input)).toEqual([
      { path: 'model.maxTokens', message: 'must be an integer 1–2000000, got 9007199254740992' },
    ]);
  });
});

describe('secrets in free text', () => {
  it.each([
    'Use sk-proj-AbCdEfGhIjKlMnOpQrStUv to call it',
    'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'aws AKIAIOSFODNN7EXAMPLE',
  ])('are refused, naming the field and never echoing the value: %s', (text) => {
    const r = issuesOf(PersonalityInput, { ...base, customInstructions: text });
    expect(r.issues[0]).toMatchObject({ path: 'customInstructions' });
    expect(r.issues[0]!.message).toMatch(/looks like an API key or token/);
    expect(r.message).not.toContain(text.split(' ').find((w) => w.length > 15));
  });

  it('plain instructions pass', () => {
    expect(
      PersonalityInput.parse({ ...base, customInstructions: 'Ask for the task-specific API docs first.' }),
    ).toBeTruthy();
  });
});
