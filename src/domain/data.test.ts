import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ID_PATTERN } from './common.js';
import { ModelInput } from './model.js';
import { BEHAVIOR_TRAITS, BIG_FIVE_TRAITS, PersonalityInput } from './personality.js';
import { RoleInput } from './role.js';

function load(name: string): unknown[] {
  const raw: unknown = JSON.parse(readFileSync(new URL(`../../data/${name}.json`, import.meta.url), 'utf8'));
  if (!Array.isArray(raw)) throw new Error(`data/${name}.json must be an array`);
  return raw;
}

const rawRoles = load('roles');
const rawPersonalities = load('personalities');
const rawModels = load('models');

const roles = rawRoles.map((r) => RoleInput.parse(r));
const personalities = rawPersonalities.map((p) => PersonalityInput.parse(p));
const models = rawModels.map((m) => ModelInput.parse(m));

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MODEL_CAPABILITIES = ['chat', 'code', 'vision', 'tool-use', 'long-context', 'reasoning', 'json-mode'];
const LONG_CONTEXT = 100_000;

function expectUniqueSlugIds(ids: (string | undefined)[]): void {
  for (const id of ids) {
    expect(id, 'every entry has an explicit id').toBeTypeOf('string');
    expect(id).toMatch(ID_PATTERN);
  }
  expect(new Set(ids).size).toBe(ids.length);
}

describe('data/roles.json', () => {
  it('every entry parses with RoleInput', () => {
    for (const r of rawRoles) expect(RoleInput.safeParse(r).success, JSON.stringify(r)).toBe(true);
  });

  it('has at least 10 roles with unique slug ids', () => {
    expect(roles.length).toBeGreaterThanOrEqual(10);
    expectUniqueSlugIds(roles.map((r) => r.id));
  });

  it('includes the core roles', () => {
    const ids = new Set(roles.map((r) => r.id));
    for (const id of [
      'analyst',
      'advisor',
      'creative',
      'critic',
      'developer',
      'facilitator',
      'innovator',
      'manager',
      'researcher',
      'strategist',
      'technical-advisor',
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
  });

  it('every role has a description, a substantial system prompt and 3-6 capabilities', () => {
    for (const r of roles) {
      expect(r.description.length, r.id).toBeGreaterThan(0);
      expect(r.systemPrompt.length, r.id).toBeGreaterThan(200);
      expect(r.capabilities.length, r.id).toBeGreaterThanOrEqual(3);
      expect(r.capabilities.length, r.id).toBeLessThanOrEqual(6);
      expect(new Set(r.capabilities).size, r.id).toBe(r.capabilities.length);
      expect(r.constraints.tone, r.id).toBeTruthy();
    }
  });

  it("every role's model requirements are met by at least 3 models", () => {
    for (const r of roles) {
      const required = r.constraints.requiredModelCapabilities ?? [];
      for (const c of required) expect(MODEL_CAPABILITIES, `${r.id}: ${c}`).toContain(c);
      const minContext = r.constraints.minContextWindow ?? 0;
      const fitting = models.filter(
        (m) => required.every((c) => m.capabilities.includes(c)) && m.contextWindow >= minContext,
      );
      expect(fitting.length, r.id).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('data/personalities.json', () => {
  it('every entry parses with PersonalityInput', () => {
    for (const p of rawPersonalities) {
      expect(PersonalityInput.safeParse(p).success, JSON.stringify(p)).toBe(true);
    }
  });

  it('has at least 12 personalities with unique slug ids', () => {
    expect(personalities.length).toBeGreaterThanOrEqual(12);
    expectUniqueSlugIds(personalities.map((p) => p.id));
  });

  it('every preset sets all Big Five traits and 6-12 behaviours', () => {
    for (const p of personalities) {
      expect(Object.keys(p.bigFive).sort(), p.id).toEqual([...BIG_FIVE_TRAITS].sort());
      const behaviors = Object.keys(p.behaviors);
      expect(behaviors.length, p.id).toBeGreaterThanOrEqual(6);
      expect(behaviors.length, p.id).toBeLessThanOrEqual(12);
      for (const b of behaviors) expect(BEHAVIOR_TRAITS, `${p.id}: ${b}`).toContain(b);
      expect(p.description, p.id).toBeTruthy();
      expect(p.customInstructions, p.id).toBeTruthy();
    }
  });
});

describe('data/models.json', () => {
  it('every entry parses with ModelInput', () => {
    for (const m of rawModels) expect(ModelInput.safeParse(m).success, JSON.stringify(m)).toBe(true);
  });

  it('has unique slug ids and unique modelIds', () => {
    expect(models.length).toBeGreaterThanOrEqual(15);
    expectUniqueSlugIds(models.map((m) => m.id));
    expect(new Set(models.map((m) => m.modelId)).size).toBe(models.length);
  });

  it('covers the main providers', () => {
    const providers = new Set<string>(models.map((m) => m.provider));
    for (const p of ['openai', 'anthropic', 'google', 'mistral', 'ollama'])
      expect(providers.has(p), p).toBe(true);
  });

  it('aliases are unique across the catalog', () => {
    const seen = new Map<string, string | undefined>();
    for (const m of models) {
      for (const a of m.aliases) {
        expect(seen.get(a), `alias "${a}" of ${m.id}`).toBeUndefined();
        seen.set(a, m.id);
      }
    }
  });

  it("no alias or modelId names another model's id or modelId", () => {
    for (const m of models) {
      for (const name of [m.modelId, ...m.aliases]) {
        for (const other of models) {
          if (other === m) continue;
          expect(name, `${m.id}: "${name}" collides with ${other.id}`).not.toBe(other.id);
          expect(name, `${m.id}: "${name}" collides with ${other.id}`).not.toBe(other.modelId);
        }
      }
    }
  });

  it('uses the known capability vocabulary and marks long context consistently', () => {
    for (const m of models) {
      for (const c of m.capabilities) {
        expect(c, m.id).toMatch(KEBAB);
        expect(MODEL_CAPABILITIES, `${m.id}: ${c}`).toContain(c);
      }
      expect(m.capabilities.includes('long-context'), m.id).toBe(m.contextWindow >= LONG_CONTEXT);
      if (m.maxOutputTokens !== undefined)
        expect(m.maxOutputTokens, m.id).toBeLessThanOrEqual(m.contextWindow);
    }
  });
});
