import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileStore } from './store.js';

// A file another process deletes between the folder's listing and its read: the read finds
// it gone (ENOENT), as the open below makes it for every file named `gone.json`.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (path: Parameters<typeof real.open>[0], ...rest: [never]) =>
      String(path).endsWith('/gone.json')
        ? Promise.reject(
            Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' }),
          )
        : real.open(path, ...rest),
  };
});

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('a file deleted while a listing reads the folder', () => {
  it('is not there, never an invalid file: list, scan and validate see the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-scanrace-'));
    dirs.push(dir);
    const store = await FileStore.init(dir, { checkpointCommits: 1 });
    await store.put('personalities', { id: 'kept' });
    await store.put('personalities', { id: 'gone' });
    expect((await store.list('personalities')).map((d) => d.id)).toEqual(['kept']);
    expect((await store.scan('personalities')).map((e) => [e.id, e.error])).toEqual([['kept', undefined]]);
    await store.close();
  });
});
