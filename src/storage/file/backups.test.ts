import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from './index.js';

const dirs: string[] = [];
const fresh = async (opts: FileStoreOptions = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-backups-'));
  dirs.push(dir);
  return { dir, store: await FileStore.init(dir, opts) };
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('FileStore backups', () => {
  it('keeps the previous versions before overwrite, only the last N, and the last state on delete', async () => {
    const { store } = await fresh({ backups: 3 });
    for (let v = 1; v <= 6; v++) await store.put('personalities', { id: 'calm', v });
    const kept = await store.listBackups('personalities', 'calm');
    expect(kept.map((b) => b.revision)).toEqual([5, 4, 3]);
    expect(kept[0]?.file).toBe('.troupe/backups/personalities/calm/5.json');
    expect((await store.readBackup('personalities', 'calm', 5))?.v).toBe(5);
    expect(await store.readBackup('personalities', 'calm', 1)).toBeUndefined();
    await store.delete('personalities', 'calm');
    expect((await store.listBackups('personalities', 'calm')).map((b) => b.revision)).toEqual([6, 5, 4]);
    expect((await store.readBackup('personalities', 'calm', 6))?.v).toBe(6);
  });

  it('defaults to 5 backups; 0 keeps none', async () => {
    const { store } = await fresh();
    for (let v = 1; v <= 8; v++) await store.put('roles', { id: 'r', v });
    expect((await store.listBackups('roles', 'r')).map((b) => b.revision)).toEqual([7, 6, 5, 4, 3]);
    const none = await fresh({ backups: 0 });
    await none.store.put('roles', { id: 'r' });
    await none.store.put('roles', { id: 'r' });
    expect(await none.store.listBackups('roles', 'r')).toEqual([]);
  });

  it('a backup is the previous file byte for byte', async () => {
    const { dir, store } = await fresh();
    const doc = await store.put('roles', { id: 'r' });
    const hand = `{"id":"r","revision":1,"createdAt":"${doc.createdAt}","updatedAt":"${doc.updatedAt}","note":"hand"}`;
    await writeFile(join(dir, 'roles', 'r.json'), hand);
    await store.put('roles', { id: 'r' });
    expect(await readFile(join(dir, '.troupe', 'backups', 'roles', 'r', '1.json'), 'utf8')).toBe(hand);
  });
});
