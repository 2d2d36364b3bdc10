import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { MemoryStore } from '../../src/storage/memory/store.js';
import { initialised, seeded, snapshot, write } from './helpers.js';

const MODEL = `provider: custom
modelId: my-llm-v1
name: My LLM
aliases: [my-llm]
contextWindow: 32000
capabilities: [chat, code]
`;

describe('models are first-class: add, show, update, remove', () => {
  it('add from a file or flags, create-only; show says where it comes from', async () => {
    const { root, dir, t } = await initialised();
    await write(root, 'm.yaml', MODEL);
    const r = await t('models', 'add', '--from', 'm.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Added model my-llm (custom my-llm-v1) → models/my-llm.json');
    expect(JSON.parse(await readFile(join(dir, 'models', 'my-llm.json'), 'utf8'))).toMatchObject({
      revision: 1,
      contextWindow: 32000,
    });
    const before = await snapshot(dir);
    const again = await t('models', 'add', '--from', 'm.yaml');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('model "my-llm" already exists (revision 1)');
    expect(await snapshot(dir)).toEqual(before);
    const flags = await t(
      'models',
      'add',
      '--id',
      'tiny',
      '--provider',
      'ollama',
      '--model-id',
      'tiny:1b',
      '--name',
      'Tiny',
      '--context-window',
      '4096',
      '--capability',
      'chat',
      '--parameters',
      'temperature,stop',
    );
    expect(flags.code, flags.stderr).toBe(0);
    expect((await t('models', 'show', 'tiny:1b')).stdout).toContain('Sampling parameters: temperature, stop');
    expect((await t('models', 'show', 'gpt-4o')).stdout).toContain('ships with troupe');
    expect((await t('models', 'show', 'my-llm', '--json')).json()).toMatchObject({
      id: 'my-llm',
      revision: 1,
    });
  });

  it("an alias that is another model's id is refused, as it could never name its model; nothing is written", async () => {
    const { root, dir, t } = await initialised();
    const before = await snapshot(dir);
    await write(
      root,
      'dead.yaml',
      MODEL.replace('aliases: [my-llm]', 'aliases: [my-llm, gpt-4o]').replace('custom', 'openai'),
    );
    const r = await t('models', 'add', '--from', 'dead.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'dead.yaml: aliases.1: "gpt-4o" is the id of another openai model: a name is matched to a model\'s id before any alias, so it would never name model "my-llm"',
    );
    // In a bundle, the entry is named by its place in it.
    await write(
      root,
      'cast.json',
      JSON.stringify({
        models: [{ id: 'my-llm', ...parse(MODEL), provider: 'openai', aliases: ['gpt-4o'] }],
      }),
    );
    const bundle = await t('import', 'cast.json');
    expect(bundle.code).toBe(1);
    expect(bundle.stderr).toContain('models[0].aliases.0: "gpt-4o" is the id of another openai model');
    expect(await snapshot(dir)).toEqual(before);
    // Another provider's id is no clash (a name is resolved within the agent's provider).
    await write(root, 'ok.yaml', MODEL.replace('aliases: [my-llm]', 'aliases: [my-llm, gpt-4o]'));
    expect((await t('models', 'add', '--from', 'ok.yaml')).code).toBe(0);
    const update = await t('models', 'update', 'my-llm', '--alias', 'my-llm', '--alias', 'tiny');
    expect(update.code).toBe(0);
  });

  it('a name several providers serve, given without a provider, is refused as a guess, naming each', async () => {
    const { root, dir, t } = await seeded();
    await write(root, 'a.yaml', MODEL.replace('aliases: [my-llm]', 'aliases: [fast]'));
    await write(
      root,
      'b.yaml',
      MODEL.replace('custom', 'ollama')
        .replace('my-llm-v1', 'other-v1')
        .replace('aliases: [my-llm]', 'aliases: [fast]'),
    );
    expect((await t('models', 'add', '--id', 'mine', '--from', 'a.yaml')).code).toBe(0);
    expect((await t('models', 'add', '--id', 'local', '--from', 'b.yaml')).code).toBe(0);
    const before = await snapshot(dir);
    const create = (...model: string[]) =>
      t('agent', 'create', '--name', 'Zed', '--personality', 'calm', '--role', 'reviewer', ...model);
    const alias = await create('--model', 'fast');
    expect(alias.code).toBe(1);
    expect(alias.stderr).toContain(
      'model.modelId: "fast" names models of several providers: custom (model "mine"), ollama (model "local"); say which with model.provider (--provider), or name the model by its id',
    );
    expect(await snapshot(dir)).toEqual(before);
    // The same provider model id under two providers is as much a guess.
    await write(
      root,
      'c.yaml',
      MODEL.replace('custom', 'ollama').replace('aliases: [my-llm]', 'aliases: []'),
    );
    expect((await t('models', 'add', '--id', 'twin', '--from', 'c.yaml')).code).toBe(0);
    const twin = await create('--model', 'my-llm-v1', '--json');
    expect(twin.code).toBe(1);
    expect(twin.error()).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'model.modelId' }] });
    // Told the provider, or named by id, it is one model.
    const told = await create('--model', 'fast', '--provider', 'ollama', '--json');
    expect(told.code, told.stderr).toBe(0);
    expect(
      told.json<{ agent: { model: { provider: string; modelId: string } } }>().agent.model,
    ).toMatchObject({
      provider: 'ollama',
      modelId: 'fast',
    });
    const byId = await t(
      'agent',
      'create',
      '--name',
      'Yan',
      '--personality',
      'calm',
      '--role',
      'reviewer',
      '--model',
      'mine',
    );
    expect(byId.code, byId.stderr).toBe(0);
  });

  it('more output than its context window is refused, by add, update and a hand edit, naming the field', async () => {
    const { root, dir, t } = await initialised();
    await write(root, 'm.yaml', `${MODEL}maxOutputTokens: 64000\n`);
    const before = await snapshot(dir);
    const add = await t('models', 'add', '--from', 'm.yaml');
    expect(add.code).toBe(1);
    expect(add.stderr).toContain(
      'm.yaml: maxOutputTokens: must not exceed the context window (32000 tokens), got 64000',
    );
    expect(await snapshot(dir)).toEqual(before);
    await write(root, 'ok.yaml', `${MODEL}maxOutputTokens: 8000\n`);
    expect((await t('models', 'add', '--from', 'ok.yaml')).code).toBe(0);
    const added = await snapshot(dir);
    const update = await t('models', 'update', 'my-llm', '--context-window', '4096');
    expect(update.code).toBe(1);
    expect(update.stderr).toContain(
      'maxOutputTokens: must not exceed the context window (4096 tokens), got 8000',
    );
    expect(await snapshot(dir)).toEqual(added);
    const file = join(dir, 'models', 'my-llm.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await write(dir, 'models/my-llm.json', JSON.stringify({ ...doc, maxOutputTokens: 1e6 }));
    const validate = await t('validate');
    expect(validate.code).toBe(1);
    expect(validate.stdout + validate.stderr).toContain(
      'models/my-llm.json: stored model "my-llm" is invalid:\n  maxOutputTokens: must not exceed the context window (32000 tokens), got 1000000',
    );
  });

  it('update re-composes every agent on the model in the same commit; --expect-revision guards it', async () => {
    const { root, t } = await initialised();
    await write(root, 'm.yaml', MODEL);
    await t('models', 'add', '--from', 'm.yaml');
    await t('personality', 'create', '--preset', 'calm-analyst');
    await t(
      'agent',
      'create',
      '--name',
      'Zed',
      '--personality',
      'calm-analyst',
      '--role',
      'developer',
      '--provider',
      'custom',
      '--model',
      'my-llm',
    );
    const r = await t('models', 'update', 'my-llm', '--context-window', '64000');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('re-composed: zed');
    expect((await t('agent', 'list', '--stale')).stdout).toBe('No agents match.\n');
    expect((await t('validate')).code).toBe(0);
    const stale = await t('models', 'update', 'my-llm', '--name', 'X', '--expect-revision', '1');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/expected revision 1, found 2/);
    expect((await t('models', 'update', 'gpt-4o', '--name', 'X')).code).toBe(2);
  });

  it('remove is refused while agents use the model, like a personality; then removes it', async () => {
    const { root, dir, t } = await initialised();
    await write(root, 'm.yaml', MODEL);
    await t('models', 'add', '--from', 'm.yaml');
    await t('personality', 'create', '--preset', 'calm-analyst');
    await t(
      'agent',
      'create',
      '--name',
      'Zed',
      '--personality',
      'calm-analyst',
      '--role',
      'developer',
      '--provider',
      'custom',
      '--model',
      'my-llm-v1',
    );
    const before = await snapshot(dir);
    const r = await t('models', 'remove', 'my-llm');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('model "my-llm" is used by 1 agent: zed');
    expect(await snapshot(dir)).toEqual(before);
    await t('agent', 'delete', 'zed');
    expect((await t('models', 'remove', 'my-llm')).code).toBe(0);
    expect((await t('models', 'show', 'my-llm')).code).toBe(1);
    expect((await t('models', 'remove', 'gpt-4o')).stderr).toContain(
      'ships with troupe and cannot be removed',
    );
  });

  it('an agent created on the model while its removal is planned fails the removal, which then refuses', async () => {
    const store = new MemoryStore();
    const config = new ConfigurationService(store);
    await config.createModel({
      provider: 'custom',
      modelId: 'm-1',
      name: 'M',
      contextWindow: 100_000,
      capabilities: ['chat', 'code'],
    });
    await config.createPersonality({
      id: 'p',
      name: 'P',
      bigFive: { openness: 50, conscientiousness: 50, extraversion: 50, agreeableness: 50, neuroticism: 50 },
    });
    // Between the removal's plan and its commit, another writer creates an agent on the model.
    const commit = store.commit.bind(store);
    let raced = false;
    store.commit = async (ops) => {
      if (!raced && ops.some((o) => o.op === 'delete' && o.kind === 'models')) {
        raced = true;
        store.commit = commit;
        await config.createAgent({
          agent: {
            id: 'late',
            name: 'Late',
            personalityId: 'p',
            roleId: 'developer',
            model: { provider: 'custom', modelId: 'm-1' },
          },
        });
        store.commit = async (o) => commit(o);
      }
      return commit(ops);
    };
    await expect(config.deleteModel('m')).rejects.toMatchObject({ code: 'REFERENCE_IN_USE' });
    expect(raced).toBe(true);
    expect(await config.services.models.get('m')).toBeDefined();
    expect(await config.detectInconsistencies()).toEqual([]);
  });
});
