import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialised, snapshot, write } from './helpers.js';

const stored = async (dir: string, id: string) =>
  JSON.parse(await readFile(join(dir, 'agents', `${id}.json`), 'utf8')) as { model: Record<string, unknown> };

describe('model settings that match the model', () => {
  it('sampling parameters are optional: none is forced, and a null patch removes one', async () => {
    const { root, dir, t } = await initialised();
    await t('personality', 'create', '--preset', 'calm-analyst');
    await t(
      'agent',
      'create',
      '--name',
      'Ada',
      '--personality',
      'calm-analyst',
      '--role',
      'developer',
      '--model',
      'gpt-4o',
    );
    expect((await stored(dir, 'ada')).model).toEqual({ provider: 'openai', modelId: 'gpt-4o' });
    expect((await t('agent', 'update', 'ada', '--temperature', '0.2')).code).toBe(0);
    expect((await stored(dir, 'ada')).model.temperature).toBe(0.2);
    await write(root, 'p.json', '{"model": {"temperature": null}}');
    expect((await t('agent', 'update', 'ada', '--from', 'p.json')).code).toBe(0);
    expect((await stored(dir, 'ada')).model).not.toHaveProperty('temperature');
  });

  it('a parameter the model rejects is refused on create and update, and flagged by validate after a hand edit', async () => {
    const { dir, t } = await initialised();
    await t('personality', 'create', '--preset', 'calm-analyst');
    const before = await snapshot(dir);
    const r = await t(
      'agent',
      'create',
      '--name',
      'R',
      '--personality',
      'calm-analyst',
      '--role',
      'developer',
      '--model',
      'o3',
      '--temperature',
      '0.5',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'model.temperature: o3 does not accept temperature (it takes none of the sampling parameters)',
    );
    expect(await snapshot(dir)).toEqual(before);
    expect(
      (
        await t(
          'agent',
          'create',
          '--name',
          'R',
          '--personality',
          'calm-analyst',
          '--role',
          'developer',
          '--model',
          'o3',
        )
      ).code,
    ).toBe(0);
    expect((await t('agent', 'update', 'r', '--temperature', '0.5')).code).toBe(1);
    // Anthropic models take temperature, top-p and stop, not the penalties.
    const c = await t(
      'agent',
      'create',
      '--name',
      'C',
      '--personality',
      'calm-analyst',
      '--role',
      'developer',
      '--model',
      'claude-sonnet-4',
      '--temperature',
      '0.4',
    );
    expect(c.code, c.stderr).toBe(0);
    const file = join(dir, 'agents', 'r.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.model.temperature = 1;
    await writeFile(file, JSON.stringify(doc, null, 2));
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout + v.stderr).toContain('agents/r.json: model.temperature: o3 does not accept temperature');
  });

  it('the catalog says which sampling parameters each model accepts', async () => {
    const { t } = await initialised();
    const models = (await t('models', 'list', '--json')).json<Array<{ id: string; parameters?: string[] }>>();
    expect(models.find((m) => m.id === 'o3')?.parameters).toEqual([]);
    expect(models.find((m) => m.id === 'claude-sonnet-4')?.parameters).toEqual([
      'temperature',
      'topP',
      'stop',
    ]);
    expect(models.find((m) => m.id === 'gpt-4o')).not.toHaveProperty('parameters'); // every one
  });
});
