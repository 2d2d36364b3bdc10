import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../domain/errors.js';
import { FileStore } from '../storage/file/index.js';
import { ModelService } from './model-service.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A directory whose models/ holds one good file of its own and one the store refuses to read. */
async function withRefused(refusedId: string) {
  dir = await mkdtemp(join(tmpdir(), 'troupe-models-'));
  const store = await FileStore.init(dir);
  const models = new ModelService(store);
  await models.create({
    id: 'local-qwen',
    provider: 'ollama',
    modelId: 'qwen2.5:7b',
    name: 'Qwen 2.5 7B',
    contextWindow: 32768,
    capabilities: ['chat'],
  });
  // A key given twice: the store refuses to read the file.
  await writeFile(
    join(dir, 'models', `${refusedId}.json`),
    `{ "id": "${refusedId}", "provider": "custom", "provider": "openai", "modelId": "x" }`,
  );
  return { store, models };
}

const refusal = async (p: Promise<unknown>): Promise<TroupeError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isTroupeError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return e;
};

describe('a model file the store refuses to read', () => {
  it('leaves the rest of the catalog usable, and is named when asked for', async () => {
    const { store, models } = await withRefused('mine');
    const all = await models.catalog();
    expect(all.some((m) => m.id === 'local-qwen')).toBe(true);
    expect(all.some((m) => m.id === 'gpt-4o')).toBe(true);
    expect(all.some((m) => m.id === 'mine')).toBe(false);
    expect((await models.resolve('gpt-4o', 'openai')).id).toBe('gpt-4o');
    expect(models.refusedIn(all).map((e) => e.message)).toEqual([
      expect.stringMatching(/^models\/mine\.json: provider: appears twice/),
    ]);
    for (const ask of [() => models.resolve('mine'), () => models.find('mine')]) {
      const e = await refusal(ask());
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.message).toMatch(/^models\/mine\.json: provider: appears twice/);
    }
    await store.close();
  });

  it('with the id of a shipped model: that model is refused too, never silently the shipped one', async () => {
    const { store, models } = await withRefused('gpt-4o');
    const all = await models.catalog();
    expect(all.some((m) => m.id === 'gpt-4o')).toBe(false);
    expect(all.some((m) => m.id === 'gpt-4o-mini')).toBe(true);
    // By its id, its dated model id or an alias, and by id alone (the HTTP API's read).
    const shipped = models.shipped().find((m) => m.id === 'gpt-4o')!;
    for (const ask of [
      () => models.resolve('gpt-4o', 'openai'),
      () => models.resolve(shipped.modelId, 'openai'),
      ...shipped.aliases.map((a) => () => models.find(a)),
      () => models.byId('gpt-4o'),
    ]) {
      const e = await refusal(ask());
      expect(e.message).toMatch(/^models\/gpt-4o\.json: provider: appears twice/);
    }
    expect(await models.byId('gpt-4o-mini')).toMatchObject({ id: 'gpt-4o-mini' });
    await store.close();
  });
});
