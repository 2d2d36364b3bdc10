import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Agent } from '../../src/domain/agent.js';
import type { ResolvedConfiguration } from '../../src/domain/resolved.js';
import { initialised, makeStale, seeded, snapshot, write } from './helpers.js';

/** An agent file that brings its own personality keen and role scout. */
const scout = (model: Record<string, unknown>) => ({
  name: 'Scout',
  model,
  personality: {
    id: 'keen',
    name: 'Keen',
    bigFive: { openness: 90, conscientiousness: 50, extraversion: 60, agreeableness: 50, neuroticism: 20 },
  },
  role: { id: 'scout', name: 'Scout', systemPrompt: 'Find things.' },
});

describe('troupe agent', () => {
  it('creates an agent from flags, finding the provider from the model name', async () => {
    const { dir, t } = await seeded();
    const r = await t(
      'agent',
      'create',
      '--name',
      'Gem',
      '--personality',
      'calm',
      '--role',
      'reviewer',
      '--model',
      'gemini-2.5-pro',
      '--max-tokens',
      '2000',
      '--json',
    );
    expect(r.code).toBe(0);
    const { agent, created } = r.json<{ agent: Agent; created: string[] }>();
    expect(agent.model).toMatchObject({ provider: 'google', modelId: 'gemini-2.5-pro', maxTokens: 2000 });
    expect(agent).toMatchObject({ personalityVersion: 1, roleVersion: 1, syncStatus: 'synchronized' });
    expect(created).toEqual(['agents/gem', 'resolved/gem']);
    const resolved = JSON.parse(await readFile(join(dir, 'resolved', 'gem.json'), 'utf8'));
    expect(resolved.checksum).toBe(agent.configurationHash);
  });

  it('creates agent, personality and role from one file in one commit', async () => {
    const { root, t } = await initialised();
    const file = scout({ provider: 'openai', modelId: 'gpt-4o', apiKeyEnv: 'OPENAI_API_KEY' });
    await write(root, 'scout.json', JSON.stringify(file));
    const r = await t('agent', 'create', '--from', 'scout.json', '--temperature', '1.1');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Created agent scout (Scout): personality keen, role scout, openai gpt-4o, temperature 1.1',
    );
    expect(r.stdout).toContain(
      'wrote personalities/keen.json, roles/scout.json, agents/scout.json, resolved/scout.json',
    );
  });

  it('the one-file create is all-or-nothing: a bad model writes none of the three', async () => {
    const { root, t } = await initialised();
    const file = scout({ provider: 'openai', modelId: 'gpt-40' });
    await write(root, 'scout.yaml', JSON.stringify(file));
    const before = await snapshot(join(root, 'cfg'));
    const r = await t('agent', 'create', '--from', 'scout.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did you mean "gpt-4o"/);
    expect(await snapshot(join(root, 'cfg'))).toEqual(before);
  });

  it('lists agents with personality, role, model and sync status', async () => {
    const { t } = await seeded();
    const r = await t('agent', 'list');
    const [head, ada, otto] = r.stdout.split('\n');
    expect(head).toMatch(/^ID\s+NAME\s+REVISION\s+PERSONALITY\s+ROLE\s+MODEL\s+SYNC$/);
    expect(ada).toMatch(/^ada\s+Ada\s+1\s+calm\s+reviewer\s+anthropic\/claude-sonnet-4\s+synchronized$/);
    expect(otto).toMatch(/^otto\s+Otto\s+1\s+calm\s+reviewer\s+openai\/gpt-4o\s+synchronized$/);
  });

  it('re-composes its agents when their personality changes', async () => {
    const { t } = await seeded();
    expect((await t('personality', 'update', 'calm', '--trait', 'humor=90')).code).toBe(0);
    const c = (await t('agent', 'show', 'ada', '--resolved', '--json')).json<ResolvedConfiguration>();
    expect(c.systemPrompt).toContain('humor 90');
    expect(c.personality.revision).toBe(2);
  });

  it('marks an agent stale when its personality moved on without it', async () => {
    const { dir, t } = await seeded();
    await makeStale(dir, 'ada');
    const agents = (await t('agent', 'list', '--json')).json<Agent[]>();
    expect(agents.map((a) => a.syncStatus)).toEqual(['stale', 'synchronized']);
    expect((await t('agent', 'list')).stdout).toMatch(/^ada\s.*\sstale$/m);
    expect((await t('agent', 'show', 'ada')).stdout).toContain('run `troupe reconcile`');
  });

  it('shows an agent, and the stored document with --json', async () => {
    const { t } = await seeded();
    const r = await t('agent', 'show', 'ada');
    expect(r.stdout).toContain('Ada (ada), revision 1, synchronized');
    expect(r.stdout).toContain(
      'Model:       anthropic claude-sonnet-4, temperature 0.3, API key from $ANTHROPIC_API_KEY',
    );
    expect((await t('agent', 'show', 'ada', '--json')).json()).toMatchObject({
      id: 'ada',
      roleId: 'reviewer',
    });
  });

  it('show --resolved prints the system prompt and model settings', async () => {
    const { t } = await seeded();
    const r = await t('agent', 'show', 'otto', '--resolved');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Resolved configuration of agent otto (Otto)');
    // The provider's canonical id is handed on, with the name the agent was given beside it.
    expect(r.stdout).toMatch(/\n {2}modelId\s+gpt-4o-2024-08-06\n/);
    expect(r.stdout).toMatch(/\n {2}alias\s+gpt-4o\n/);
    expect(r.stdout).toContain('You are Otto, acting as Reviewer.');
    const c = (await t('agent', 'show', 'otto', '--resolved', '--json')).json<ResolvedConfiguration>();
    expect(c).toMatchObject({
      agentId: 'otto',
      model: {
        provider: 'openai',
        modelId: 'gpt-4o-2024-08-06',
        alias: 'gpt-4o',
        apiKeyEnv: 'OPENAI_API_KEY',
      },
    });
    const agent = (await t('agent', 'show', 'otto', '--json')).json<{ model: { modelId: string } }>();
    expect(agent.model.modelId).toBe('gpt-4o');
    expect(c.systemPrompt).toContain('You review code carefully.');
  });

  it('updates model settings, re-composing the agent', async () => {
    const { t } = await seeded();
    const r = await t('agent', 'update', 'ada', '--temperature', '0.9', '--model', 'claude-opus-4', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      revision: 2,
      model: { provider: 'anthropic', modelId: 'claude-opus-4', temperature: 0.9 },
    });
  });

  it('update can move an agent to another provider by model name alone', async () => {
    const { t } = await seeded();
    const r = await t('agent', 'update', 'ada', '--model', 'gpt-4o-mini');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('openai gpt-4o-mini');
  });

  it('deletes an agent and its resolved file', async () => {
    const { dir, t } = await seeded();
    const r = await t('agent', 'delete', 'otto', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ deleted: 'otto' });
    const files = Object.keys(await snapshot(dir));
    expect(files).not.toContain('agents/otto.json');
    expect(files).not.toContain('resolved/otto.json');
  });
});
