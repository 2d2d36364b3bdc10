import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/domain/model.js';
import { cli, seeded, tempDir, write } from './helpers.js';

describe('troupe models list', () => {
  it('lists the shipped catalog, even without a config directory', async () => {
    const root = await tempDir();
    const r = await cli(join(root, 'none'), root)('models', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^PROVIDER\s+ID\s+MODEL ID\s+CONTEXT\s+CAPABILITIES/);
    expect(r.stdout).toMatch(/anthropic\s+claude-sonnet-4/);
    expect(r.stdout).toMatch(/openai\s+gpt-4o\s/);
  });

  it('--provider filters, and --json gives the entries', async () => {
    const { t } = await seeded();
    const models = (await t('models', 'list', '--provider', 'ollama', '--json')).json<Model[]>();
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((m) => m.provider === 'ollama')).toBe(true);
  });

  it('includes the directory’s own models', async () => {
    const { root, t } = await seeded();
    const bundle = {
      models: [
        { id: 'my-llama', provider: 'ollama', modelId: 'my-llama:8b', name: 'My Llama', contextWindow: 8192 },
      ],
    };
    await write(root, 'm.json', JSON.stringify(bundle));
    expect((await t('import', 'm.json')).code).toBe(0);
    expect((await t('models', 'list', '--provider', 'ollama')).stdout).toMatch(
      /ollama\s+my-llama\s+my-llama:8b\s+8192/,
    );
  });

  it('an unknown provider is a usage error', async () => {
    const { t } = await seeded();
    const r = await t('models', 'list', '--provider', 'openia');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are openai, anthropic');
  });
});

describe('troupe schema', () => {
  it('writes the five JSON Schemas into -o DIR', async () => {
    const root = await tempDir();
    const r = await cli(join(root, 'cfg'), root)('schema', '-o', 'schemas', '--json');
    expect(r.code).toBe(0);
    const { files } = r.json<{ files: string[] }>();
    expect(files.map((f) => basename(f)).sort()).toEqual([
      'agent.schema.json',
      'bundle.schema.json',
      'model.schema.json',
      'personality.schema.json',
      'role.schema.json',
    ]);
    const read = async (n: string) => JSON.parse(await readFile(join(root, 'schemas', n), 'utf8'));
    const personality = await read('personality.schema.json');
    expect(personality.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(personality.required).toEqual(['name', 'bigFive']);
    expect(Object.keys(personality.properties.bigFive.properties)).toContain('openness');
    expect(personality.properties.bigFive.properties.openness).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: 100,
    });
    expect(personality.additionalProperties).toBe(false);
    const agent = await read('agent.schema.json');
    expect(agent.properties.model.properties.provider.enum).toContain('anthropic');
    const bundle = await read('bundle.schema.json');
    expect(bundle.properties.personalities.items.properties.bigFive).toBeDefined();
    expect(bundle.properties.agents.items.required).toContain('personalityId');
  });

  it('defaults to <dir>/.troupe/schemas', async () => {
    const root = await tempDir();
    const r = await cli(join(root, 'cfg'), root)('schema');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Wrote 5 JSON Schemas to cfg/.troupe/schemas/');
  });
});
