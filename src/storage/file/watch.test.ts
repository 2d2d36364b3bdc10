import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeEvent, RelistEvent } from '../store.js';
import { FileStore } from './store.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A watch of a fresh directory, established (ready) before the caller writes. */
async function watching(fromRevision?: number) {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-watch-'));
  dirs.push(dir);
  const writer = await FileStore.init(dir);
  await writer.put('personalities', { id: 'old' });
  const watcher = await FileStore.open(dir);
  const stop = new AbortController();
  let ready: () => void = () => {};
  const established = new Promise<void>((r) => {
    ready = r;
  });
  const feed = watcher.watch({ signal: stop.signal, onReady: ready, fromRevision })[Symbol.asyncIterator]();
  const first = feed.next();
  return { dir, writer, watcher, stop, feed, first, established };
}

const line = (e: ChangeEvent | RelistEvent) =>
  e.type === 'change' ? `${e.position} ${e.op} ${e.kind}/${e.id} r${e.revision}` : `relist ${e.position}`;

describe('the change feed of a directory', () => {
  it("hears another store's commits and a hand edit, each once, in order; an unchanged rewrite is not news", async () => {
    const w = await watching();
    await w.established;
    const c = await w.writer.commit([
      { op: 'put', kind: 'personalities', doc: { id: 'calm' } },
      { op: 'put', kind: 'roles', doc: { id: 'dev' } },
    ]);
    const got = [(await w.first).value as ChangeEvent, (await w.feed.next()).value as ChangeEvent];
    // One commit's files land in no set order: each is heard once, positions 1 and 2.
    expect(got.map((e) => line(e).slice(2)).sort()).toEqual([
      'put personalities/calm r1',
      'put roles/dev r1',
    ]);
    expect(got.map((e) => e.position)).toEqual([1, 2]);
    expect(got.find((e) => e.id === 'calm')?.writer).toBe(c.results[0]?.doc.commit);
    await w.writer.delete('roles', 'dev');
    expect(line((await w.feed.next()).value as ChangeEvent)).toBe('3 delete roles/dev r1');
    // A hand edit that keeps the revision is not a change of revision; one that moves it is.
    const stored = await w.writer.get('personalities', 'calm');
    await writeFile(
      join(w.dir, 'personalities', 'calm.json'),
      `${JSON.stringify({ ...stored, revision: 7 }, null, 2)}\n`,
    );
    expect(line((await w.feed.next()).value as ChangeEvent)).toBe('4 put personalities/calm r7');
    // A hand edit of its content that leaves the revision as it was is news too; the same bytes
    // written again are not (the next thing heard is the commit after them).
    const edited = `${JSON.stringify({ ...stored, revision: 7, name: 'Edited by hand' }, null, 2)}\n`;
    await writeFile(join(w.dir, 'personalities', 'calm.json'), edited);
    expect(line((await w.feed.next()).value as ChangeEvent)).toBe('5 put personalities/calm r7');
    await writeFile(join(w.dir, 'personalities', 'calm.json'), edited);
    await w.writer.put('roles', { id: 'after' });
    expect(line((await w.feed.next()).value as ChangeEvent)).toBe('6 put roles/after r1');
    w.stop.abort();
    expect((await w.feed.next()).done).toBe(true);
    await Promise.all([w.writer.close(), w.watcher.close()]);
  });

  it('a file that cannot be read for a moment (a hand edit half saved) is not a delete', async () => {
    const w = await watching();
    await w.established;
    const old = await w.writer.get('personalities', 'old');
    await writeFile(join(w.dir, 'personalities', 'old.json'), '{"id": "old", "rev');
    await writeFile(
      join(w.dir, 'personalities', 'old.json'),
      `${JSON.stringify({ ...old, revision: 5 }, null, 2)}\n`,
    );
    expect(line((await w.first).value as ChangeEvent)).toBe('1 put personalities/old r5');
    w.stop.abort();
    await Promise.all([w.writer.close(), w.watcher.close()]);
  });

  it('keeps no history: a watch from a position is told to list again', async () => {
    const w = await watching(12);
    expect((await w.first).value).toMatchObject({ type: 'relist', position: 0 });
    await w.established;
    await w.writer.put('agents', { id: 'a' });
    expect(line((await w.feed.next()).value as ChangeEvent)).toBe('1 put agents/a r1');
    w.stop.abort();
    await Promise.all([w.writer.close(), w.watcher.close()]);
  });
});
