import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from './store.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('reads', () => {
  it('see a file edited in place by hand right away, though its last decode is cached', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-read-'));
    const store = await FileStore.init(dir);
    await store.put('roles', { id: 'r', name: 'Before' });
    expect((await store.get('roles', 'r'))!.name).toBe('Before');
    const path = join(dir, 'roles', 'r.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('Before', 'After!'));
    expect((await store.get('roles', 'r'))!.name).toBe('After!');
    await store.close();
  });

  it('return copies: changing one does not change the next read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-read-'));
    const store = await FileStore.init(dir);
    await store.put('roles', { id: 'r', tags: ['a'] });
    ((await store.get('roles', 'r'))!.tags as string[]).push('b');
    expect((await store.get('roles', 'r'))!.tags).toEqual(['a']);
    await store.close();
  });
});
