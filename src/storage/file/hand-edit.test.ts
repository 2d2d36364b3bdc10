import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunLog } from '../../orchestration/file-run-log.js';
import { FileStore } from './store.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const META =
  '"revision": 1, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"';

describe('a file edited by hand holding what no entity may hold is refused, naming the file and field', () => {
  it.each([
    ['a terminal escape in a name', `{"id": "p", "name": "x\\u001b[2Jy", ${META}}`, 'name', /U\+001B/],
    ['a direction override written raw', `{"id": "p", "name": "safe\u202eexe", ${META}}`, 'name', /U\+202E/],
    [
      'half of a character pair',
      `{"id": "p", "name": "a\\ud800b", ${META}}`,
      'name',
      /a lone surrogate U\+D800/,
    ],
    [
      'a key given twice',
      `{"id": "p", "name": "B",\n "name": "C", ${META}}`,
      'name',
      /appears twice in one object \(line 2\)/,
    ],
    ['a number JSON cannot carry', `{"id": "p", "n": 1e400, ${META}}`, 'n', /too large/],
    [
      'nesting ten thousand levels deep',
      `{"id": "p", "x": ${'['.repeat(10_000)}${']'.repeat(10_000)}, ${META}}`,
      expect.stringMatching(/^x(\.0)+$/) as unknown as string,
      /nested more than 32 levels deep/,
    ],
    [
      'a revision past the highest there is',
      `{"id": "p", "name": "x", "revision": 9007199254740991, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}`,
      'revision',
      /from 1 to 2147483647/,
    ],
  ])('%s', async (_what, text, path, message) => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-handedit-'));
    dirs.push(dir);
    const store = await FileStore.init(dir);
    await writeFile(join(dir, 'personalities', 'p.json'), text);
    const [entry] = await store.scan('personalities');
    expect(entry?.error).toMatchObject({ file: 'personalities/p.json', path });
    expect(entry?.error?.message).toMatch(message);
    await expect(store.get('personalities', 'p')).rejects.toThrow(/personalities\/p\.json/);
    await store.close();
  });

  it('bytes that are not UTF-8 (never read as U+FFFD); a U+FFFD written as UTF-8 is text like any other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-handedit-'));
    dirs.push(dir);
    const store = await FileStore.init(dir);
    await writeFile(
      join(dir, 'personalities', 'p.json'),
      Buffer.concat([
        Buffer.from('{"id": "p", "name": "caf'),
        Buffer.from([0xff]),
        Buffer.from(`", ${META}}`),
      ]),
    );
    const [entry] = await store.scan('personalities');
    expect(entry?.error).toMatchObject({
      file: 'personalities/p.json',
      message: 'is not valid UTF-8 (at byte 24): save it as UTF-8',
    });
    await expect(store.get('personalities', 'p')).rejects.toThrow(
      'personalities/p.json: is not valid UTF-8 (at byte 24)',
    );
    await store.put('personalities', { id: 'q', name: 'caf\uFFFD' });
    expect(await store.get('personalities', 'q')).toMatchObject({ name: 'caf\uFFFD' });
    await store.close();
  });
});

describe('what is in a kind folder but no entity file', () => {
  it('a FIFO named like an entity is never opened (a read would wait forever): reported, refused by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-handedit-'));
    dirs.push(dir);
    const store = await FileStore.init(dir);
    execFileSync('mkfifo', [join(dir, 'personalities', 'q.json')]);
    expect(await store.scan('personalities')).toEqual([]);
    expect(await store.strays()).toEqual([
      {
        file: 'personalities/q.json',
        why: 'not a regular file (a FIFO, a socket, a device, or a folder named like a file)',
      },
    ]);
    await expect(store.get('personalities', 'q')).rejects.toThrow(
      'personalities/q.json is a FIFO or device, not a file',
    );
    await store.close();
  });

  it('a FIFO where troupe keeps a file of its own (a run log, the lock, the journal) is never opened: refused or skipped at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-handedit-'));
    dirs.push(dir);
    const store = await FileStore.init(dir, { lockTimeoutMs: 60_000 });
    await store.put('roles', { id: 'r' });
    const runs = new FileRunLog(join(dir, '.troupe', 'runs'));
    await mkdir(join(dir, '.troupe', 'runs'), { recursive: true });
    execFileSync('mkfifo', [join(dir, '.troupe', 'runs', 'x.jsonl')]);
    expect(await runs.list()).toEqual([]);
    expect(runs.unreadable.map((u) => u.runId)).toEqual(['x']);
    await expect(runs.read('x')).rejects.toMatchObject({ code: 'IO_ERROR' });
    execFileSync('mkfifo', [join(dir, '.troupe', 'lock')]);
    await expect(store.put('roles', { id: 's' })).rejects.toThrow(/\.troupe\/lock is not a regular file/);
    await rm(join(dir, '.troupe', 'lock'));
    await store.close();
    await rm(join(dir, '.troupe', 'journal'), { force: true });
    execFileSync('mkfifo', [join(dir, '.troupe', 'journal')]);
    await expect(FileStore.open(dir).then((s) => s.put('roles', { id: 't' }))).rejects.toThrow(
      /\.troupe\/journal is not a regular file \(a FIFO, a socket or a device\), not troupe's journal: remove it/,
    );
    // A folder there is said as one, not as a committed change waiting to be written.
    await rm(join(dir, '.troupe', 'journal'));
    await mkdir(join(dir, '.troupe', 'journal'));
    await expect(FileStore.open(dir)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/\.troupe\/journal is a folder, not troupe's journal: remove it/),
    });
    await rm(join(dir, '.troupe', 'journal'), { recursive: true });
    const again = await FileStore.open(dir);
    expect((await again.list('roles')).map((r) => r.id)).toEqual(['r']); // nothing was written
    await again.close();
  });

  it('a file name holding a terminal escape or a line break is reported escaped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-handedit-'));
    dirs.push(dir);
    const store = await FileStore.init(dir);
    await writeFile(join(dir, 'roles', '\u001b[2JRED.json'), '{}');
    await writeFile(join(dir, 'roles', 'a\nerror: forged.json'), '{}');
    expect((await store.strays()).map((s) => s.file).sort()).toEqual([
      'roles/\\u{1B}[2JRED.json',
      'roles/a\\u{A}error: forged.json',
    ]);
    await store.close();
  });
});
