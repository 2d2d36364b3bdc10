import { describe, expect, it } from 'vitest';
import { configurationHash, resolveConfiguration } from '../domain/resolved.js';
import { seeded } from './test-setup.test-helper.js';

describe('the resolved configuration names the model by its provider id', () => {
  it("hands on the catalog's canonical id with the agent's name for it beside it", async () => {
    const { config } = await seeded();
    const file = await config.services.files.require('a1');
    expect(file.configuration.model).toEqual({
      provider: 'anthropic',
      modelId: 'claude-sonnet-4-20250514',
      alias: 'claude-sonnet-4',
      temperature: 0.3,
      apiKeyEnv: 'ANTHROPIC_API_KEY',
    });
    // The agent keeps the name it was given; only what is handed on is resolved.
    expect((await config.services.agents.require('a1')).model.modelId).toBe('claude-sonnet-4');
    // Named by its canonical id already: nothing beside it.
    const { agent } = await config.updateAgent('a2', { model: { modelId: 'claude-sonnet-4-20250514' } });
    const again = await config.services.files.require(agent.id);
    expect(again.configuration.model.modelId).toBe('claude-sonnet-4-20250514');
    expect(again.configuration.model).not.toHaveProperty('alias');
  });

  it('an agent composed before ids were resolved is stale, says why, and reconcile brings it up to date', async () => {
    const { config, store } = await seeded();
    const s = config.services;
    const [agent, p, r] = [
      await s.agents.require('a1'),
      await s.personalities.require('calm'),
      await s.roles.require('reviewer'),
    ];
    // What an older troupe wrote: the model id as the agent names it, and the hash of that.
    const old = resolveConfiguration(agent, p, r);
    const hash = configurationHash(old);
    const { revision: _r, createdAt: _c, updatedAt: _u, commit: _m, ...doc } = agent;
    const file = await s.files.require('a1');
    await store.commit([
      {
        op: 'put',
        kind: 'agents',
        doc: { ...doc, configurationHash: hash },
        expectedRevision: agent.revision,
      },
      {
        op: 'put',
        kind: 'resolved',
        doc: { id: 'a1', checksum: hash, configuration: old },
        expectedRevision: file.revision,
      },
    ]);
    const judged = (await config.syncStates()).get('a1');
    expect(judged?.state).toBe('stale');
    expect(judged?.drift).toEqual([
      'its resolved configuration names model "claude-sonnet-4", not the provider\'s id "claude-sonnet-4-20250514" (composed by an older troupe)',
    ]);
    await config.reconcile();
    expect((await config.syncStates()).get('a1')?.state).toBe('synchronized');
    expect((await s.files.require('a1')).configuration.model.alias).toBe('claude-sonnet-4');
  });
});
