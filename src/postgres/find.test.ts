import { afterAll, describe, expect, it } from 'vitest';
import type { StoredDoc } from '../storage/store.js';
import { instances } from './instances.test-helper.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

/** What `where` means: every field (a dotted path) holds exactly that string. */
const matches = (d: StoredDoc, where: Record<string, string>) =>
  Object.entries(where).every(
    ([k, v]) =>
      k
        .split('.')
        .reduce<unknown>(
          (x, p) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined),
          d,
        ) === v,
  );

describe.each(engines.map((e) => [e]))('finding documents by field on %s', (engine) => {
  it('gives every document of the kind whose fields hold the values, by id, and none of another kind', async () => {
    const [store] = await instances(engine, 1);
    const docs = [
      {
        id: 'b',
        personalityId: 'calm',
        roleId: 'reviewer',
        model: { provider: 'openai', modelId: 'gpt-4o' },
      },
      {
        id: 'a',
        personalityId: 'calm',
        roleId: 'writer',
        model: { provider: 'anthropic', modelId: 'gpt-4o' },
      },
      { id: 'c', personalityId: 'bold', model: { provider: 'openai', modelId: 'o3' } },
      { id: 'd', personalityId: 5, model: 'gpt-4o' },
      { id: 'e', personalityId: { id: 'calm' } },
      { id: 'f' },
    ];
    for (const d of docs) await store!.put('agents', d as never);
    await store!.put('personalities', { id: 'calm', personalityId: 'calm' } as never);
    const wheres: Array<Record<string, string>> = [
      { personalityId: 'calm' },
      { personalityId: 'calm', roleId: 'writer' },
      { personalityId: '5' },
      { 'model.modelId': 'gpt-4o' },
      { 'model.provider': 'openai', 'model.modelId': 'o3' },
      { id: 'c' },
      { personalityId: 'nobody' },
    ];
    const all = await store!.list('agents');
    for (const where of wheres) {
      const found = await store!.find('agents', where);
      const exact = all.filter((d) => matches(d, where)).map((d) => d.id);
      // At least the exact matches (callers check each again), in id order, all agents.
      expect(found.map((d) => d.id).filter((id) => exact.includes(id))).toEqual(exact);
      expect(found.map((d) => d.id)).toEqual([...found.map((d) => d.id)].sort());
      expect(found.every((d) => all.some((x) => x.id === d.id))).toBe(true);
    }
    expect((await store!.find('agents', { personalityId: 'calm' })).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('takes any field name, as every store does, and finds what a guard names by it', async () => {
    const [store] = await instances(engine, 1);
    const odd = { id: 'o', team_name: 'x', 'cost-center': "it's", meta: { '2fa': 'on' } };
    await store!.put('agents', odd as never);
    for (const where of [{ team_name: 'x' }, { 'cost-center': "it's" }, { 'meta.2fa': 'on' }])
      expect((await store!.find('agents', where)).map((d) => d.id)).toEqual(['o']);
    // Names an object inherits are fields like any other: found (and, as no entity may hold
    // such a key, refused naming the row, as a file holding it is).
    await store!.put('agents', { id: 'p', constructor: 'x' } as never);
    await expect(store!.find('agents', { constructor: 'x' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'agents/p: constructor: "constructor" is not allowed as a key',
    });
    expect(await store!.find('agents', { toString: 'y', valueOf: 'z' })).toEqual([]);
    // A guard on such a field holds as on the memory store: refused while a match exists.
    await expect(
      store!.commit([{ op: 'absent', kind: 'agents', where: { team_name: 'x' } }]),
    ).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    await store!.commit([{ op: 'absent', kind: 'agents', where: { team_name: 'y' } }]);
  });

  it('stores a document the server cannot take apart (an escaped NUL, half a surrogate pair) exactly, and still finds it', async () => {
    const [store] = await instances(engine, 1);
    const nul = { id: 'n', personalityId: 'calm', note: 'a\u0000b' };
    const half = { id: 'h', personalityId: 'calm', note: 'cut \ud83d' };
    await store!.put('agents', nul as never);
    await store!.commit([{ op: 'put', kind: 'agents', doc: half as never }]);
    // Kept as given: validate's scan shows each as it is, with its problem.
    const scanned = await store!.scan('agents');
    expect(scanned.map((e) => [e.id, (e.raw as { note?: string } | undefined)?.note])).toEqual([
      ['h', 'cut \ud83d'],
      ['n', 'a\u0000b'],
    ]);
    // Every read refuses it, naming the row and field, as the file store refuses such a file.
    await expect(store!.get('agents', 'n')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'agents/n: note: contains the control or direction-override character U+0000',
    });
    // Found whatever the field asked (so refused too).
    for (const where of [{ personalityId: 'calm' }, { roleId: 'r', team: 'x' }])
      await expect(store!.find('agents', where)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        issues: [{ file: 'agents/h' }, { file: 'agents/n' }],
      });
    await expect(
      store!.commit([{ op: 'absent', kind: 'agents', where: { personalityId: 'calm' }, except: ['n'] }]),
    ).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    // Each once, by id too; a NUL or half a pair asked for can only be in such a document.
    await expect(store!.find('agents', { id: 'n' })).rejects.toMatchObject({
      issues: [{ file: 'agents/n' }],
    });
    await expect(
      store!.commit([{ op: 'absent', kind: 'agents', where: { note: 'a\u0000b' } }]),
    ).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION', context: { found: ['n'] } });
    await store!.commit([{ op: 'absent', kind: 'agents', where: { 'x\u0000': 'y', note: 'cut \udc00' } }]);
  });
});
