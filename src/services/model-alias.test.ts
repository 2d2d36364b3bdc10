import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { FileStore } from '../storage/file/index.js';
import { samplePersonality, sampleRole } from '../testing/samples.js';
import { ModelService } from './model-service.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a model of your own whose alias is another model id', () => {
  it('never takes over that id: the shipped model stays what its id names, for old agents and new', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-alias-'));
    const store = await FileStore.init(dir);
    const config = new ConfigurationService(store);
    const models = new ModelService(store);
    const ada = {
      personality: samplePersonality,
      role: sampleRole,
      agent: {
        id: 'ada',
        name: 'Ada',
        personalityId: 'calm',
        roleId: 'reviewer',
        model: { provider: 'anthropic' as const, modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      },
    };
    await config.createAgent(ada);
    await models.create({
      id: 'other',
      provider: 'anthropic',
      modelId: 'claude-other',
      name: 'Other',
      aliases: ['claude-sonnet-4'],
      contextWindow: 200_000,
      capabilities: ['chat', 'code'],
    });
    expect((await models.resolve('claude-sonnet-4', 'anthropic')).id).toBe('claude-sonnet-4');
    expect((await models.find('claude-sonnet-4'))?.id).toBe('claude-sonnet-4');
    expect((await models.resolve('claude-other')).id).toBe('other'); // its own names still find it
    const { agent: bo } = await config.createAgent({
      agent: { ...ada.agent, id: 'bo', name: 'Bo' },
    });
    expect(bo.id).toBe('bo');
    const resolved = (id: string) =>
      store.get('resolved', id) as Promise<{ configuration: { model: { modelId: string } } } | undefined>;
    expect((await resolved('bo'))?.configuration.model.modelId).not.toBe('claude-other');
    expect((await resolved('ada'))?.configuration.model.modelId).not.toBe('claude-other');
  });
});
