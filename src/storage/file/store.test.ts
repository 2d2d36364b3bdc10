import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../../domain/errors.js';
import { describeStoreContract } from '../contract.test-helper.js';
import { KINDS } from '../store.js';
import { casIncrement } from './cas-increment.test-helper.js';
import { FileStore, type FileStoreOptions } from './index.js';
import { parseJournal } from './journal.js';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'troupe-file-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describeStoreContract(
  'file',
  async () => FileStore.init(await tempDir()),
  async () => {
    const d = dirs.pop();
    if (d) await rm(d, { recursive: true, force: true });
  },
);

const fresh = async (opts: FileStoreOptions = {}) => {
  const dir = await tempDir();
  return { dir, store: await FileStore.init(dir, opts) };
};

const journalCommits = async (dir: string) =>
  parseJournal(await readFile(join(dir, '.troupe', 'journal'))).entries.filter((e) => e.type === 'commit')
    .length;

const failure = async (p: Promise<unknown>): Promise<TroupeError> => {
  try {
    await p;
  } catch (e) {
    if (isTroupeError(e)) return e;
    throw e;
  }
  throw new Error('expected a TroupeError, nothing was thrown');
};

describe('FileStore layout', () => {
  it('init and open without a directory path are USAGE errors saying so', async () => {
    for (const dir of [undefined, '', 42])
      for (const f of [FileStore.init, FileStore.open])
        await expect(f(dir as never)).rejects.toMatchObject({
          code: 'USAGE',
          message: expect.stringMatching(/^a file store needs the path of its directory/),
        });
  });

  it('init creates the readable layout and the marker, on a missing directory', async () => {
    const dir = join(await tempDir(), 'nested', 'cast');
    const store = await FileStore.init(dir);
    for (const k of KINDS) expect(await readdir(join(dir, k))).toEqual([]);
    expect(JSON.parse(await readFile(join(dir, '.troupe', 'store.json'), 'utf8'))).toEqual({ format: 1 });
    expect(await readdir(join(dir, '.troupe', 'backups'))).toEqual([]);
    await store.close();
  });

  it('init is idempotent on an existing store and keeps its data; open finds it', async () => {
    const { dir, store } = await fresh();
    await store.put('roles', { id: 'writer' });
    const again = await FileStore.init(dir);
    expect((await again.get('roles', 'writer'))?.revision).toBe(1);
    const opened = await FileStore.open(dir);
    expect((await opened.list('roles')).map((d) => d.id)).toEqual(['writer']);
  });

  it('a marker of another format is VALIDATION_FAILED naming .troupe/store.json', async () => {
    const { dir } = await fresh();
    await writeFile(join(dir, '.troupe', 'store.json'), '{"format": 2}\n');
    const e = await failure(FileStore.open(dir));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/^\.troupe\/store\.json: was written by a newer troupe/);
    await writeFile(join(dir, '.troupe', 'store.json'), 'nope');
    expect((await failure(FileStore.init(dir))).code).toBe('VALIDATION_FAILED');
  });

  it('open of a directory without .troupe/store.json is NOT_A_TROUPE_DIRECTORY naming it', async () => {
    const dir = await tempDir();
    const e = await failure(FileStore.open(dir));
    expect(e.code).toBe('NOT_A_TROUPE_DIRECTORY');
    expect(e.message).toContain(dir);
    expect(e.message).toContain('troupe init');
    expect((await failure(FileStore.open(join(dir, 'missing')))).code).toBe('NOT_A_TROUPE_DIRECTORY');
  });

  it('writes pretty JSON with a trailing newline, fields in the document order, metadata kept', async () => {
    const { dir, store } = await fresh({ now: () => Date.UTC(2024, 4, 1) });
    const { commit } = await store.put('personalities', { name: 'Calm', id: 'calm', traits: { warmth: 80 } });
    const text = await readFile(join(dir, 'personalities', 'calm.json'), 'utf8');
    expect(text).toBe(
      `${JSON.stringify(
        {
          name: 'Calm',
          id: 'calm',
          traits: { warmth: 80 },
          revision: 1,
          createdAt: '2024-05-01T00:00:00.000Z',
          updatedAt: '2024-05-01T00:00:00.000Z',
          commit,
        },
        null,
        2,
      )}\n`,
    );
  });

  it('keeps its commits in the journal until a checkpoint; close() empties it, no lock or temp file left', async () => {
    const { dir, store } = await fresh();
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.put('agents', { id: `a${i}` })));
    await store.delete('agents', 'a0');
    expect((await readdir(join(dir, '.troupe'))).sort()).toEqual([
      '.gitignore',
      'backups',
      'journal',
      'store.json',
    ]);
    expect(await journalCommits(dir)).toBe(6);
    expect((await readdir(join(dir, 'agents'))).sort()).toEqual(['a1.json', 'a2.json', 'a3.json', 'a4.json']);
    await store.close();
    expect((await readdir(join(dir, '.troupe'))).sort()).toEqual([
      '.gitignore',
      'backups',
      'journal',
      'store.json',
    ]);
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });

  it('reads come from disk: a second store on the directory sees writes at once', async () => {
    const { dir, store } = await fresh();
    const other = await FileStore.open(dir);
    await store.put('roles', { id: 'r', v: 1 });
    expect((await other.get('roles', 'r'))?.v).toBe(1);
    await writeFile(
      join(dir, 'roles', 'r.json'),
      JSON.stringify({ ...(await store.get('roles', 'r')), v: 2, revision: 5 }),
    );
    expect((await other.get('roles', 'r'))?.v).toBe(2);
    expect((await store.put('roles', { id: 'r', v: 3 }, { expectedRevision: 5 })).revision).toBe(6);
  });

  it('a closed store refuses further calls', async () => {
    const { store } = await fresh();
    await store.close();
    expect((await failure(store.get('roles', 'r'))).code).toBe('USAGE');
    expect((await failure(store.put('roles', { id: 'r' }))).code).toBe('USAGE');
  });
});

describe('FileStore ids and bad files', () => {
  it.each(['../store', '..', 'a/b', 'A', ''])(
    'get and delete of the id %j are VALIDATION_FAILED',
    async (id) => {
      const { store } = await fresh();
      expect((await failure(store.get('personalities', id))).code).toBe('VALIDATION_FAILED');
      expect((await failure(store.delete('personalities', id))).code).toBe('VALIDATION_FAILED');
      expect((await failure(store.listBackups('personalities', id))).code).toBe('VALIDATION_FAILED');
    },
  );

  it('an unknown kind is VALIDATION_FAILED, not a path', async () => {
    const { store } = await fresh();
    const kind = '../.troupe' as 'roles';
    expect((await failure(store.get(kind, 'store'))).code).toBe('VALIDATION_FAILED');
    expect((await failure(store.list(kind))).code).toBe('VALIDATION_FAILED');
  });

  it('invalid JSON: get and list name the file, line and column', async () => {
    const { dir, store } = await fresh();
    await store.put('personalities', { id: 'fine' });
    await writeFile(join(dir, 'personalities', 'calm.json'), '{\n  "id": "calm",\n    name: 1\n}\n');
    const e = await failure(store.get('personalities', 'calm'));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/^personalities\/calm\.json: invalid JSON at line 3 column 5: /);
    expect(e.issues).toEqual([
      { file: 'personalities/calm.json', path: '(root)', message: expect.any(String) },
    ]);
    const l = await failure(store.list('personalities'));
    expect(l.code).toBe('VALIDATION_FAILED');
    expect(l.message).toContain('personalities/calm.json: invalid JSON at line 3 column 5');
    expect(await store.get('personalities', 'fine')).toBeDefined();
  });

  it('a commit touching a corrupt file fails and changes nothing', async () => {
    const { dir, store } = await fresh();
    await writeFile(join(dir, 'roles', 'bad.json'), '{"id": "bad",');
    const e = await failure(
      store.commit([
        { op: 'put', kind: 'roles', doc: { id: 'ok' } },
        { op: 'put', kind: 'roles', doc: { id: 'bad' } },
      ]),
    );
    expect(e.message).toMatch(/^roles\/bad\.json: invalid JSON at line 1 column 14/);
    expect(await store.get('roles', 'ok')).toBeUndefined();
  });

  it('reports an id that differs from the file name, and a file without a valid revision', async () => {
    const { dir, store } = await fresh();
    const good = await store.put('roles', { id: 'writer' });
    await writeFile(join(dir, 'roles', 'editor.json'), JSON.stringify({ ...good, id: 'other' }));
    const e = await failure(store.get('roles', 'editor'));
    expect(e.message).toBe(
      'roles/editor.json: id: is "other" but the file is named editor.json; they must match',
    );
    expect(e.issues[0]).toMatchObject({ file: 'roles/editor.json', path: 'id' });
    await writeFile(join(dir, 'roles', 'writer.json'), JSON.stringify({ ...good, revision: 0 }));
    const r = await failure(store.get('roles', 'writer'));
    expect(r.message).toMatch(
      /^roles\/writer\.json: revision: must be a whole number from 1 to 2147483647, got 0/,
    );
    const l = await failure(store.list('roles'));
    expect(l.issues.map((i) => i.file)).toEqual(['roles/editor.json', 'roles/writer.json']);
  });

  it('stamps every version with the commit that wrote it, and reports a commit id that is not one', async () => {
    const { dir, store } = await fresh();
    const { results } = await store.commit([
      { op: 'put', kind: 'roles', doc: { id: 'a' } },
      { op: 'put', kind: 'roles', doc: { id: 'b' } },
    ]);
    const [a, b] = results.map((r) => r.doc.commit);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toBe(a); // one commit, one id
    const next = await store.put('roles', { id: 'a', v: 2 });
    expect(next.commit).not.toBe(a);
    expect(JSON.parse(await readFile(join(dir, 'roles', 'a.json'), 'utf8')).commit).toBe(next.commit);
    await writeFile(join(dir, 'roles', 'b.json'), JSON.stringify({ ...results[1]!.doc, commit: 7 }));
    const e = await failure(store.get('roles', 'b'));
    expect(e.message).toMatch(
      /^roles\/b\.json: commit: must be the id of the commit that wrote this version/,
    );
  });

  it('a hand-written file without metadata reads as revision 0 (not yet adopted); a create refuses it', async () => {
    const { dir, store } = await fresh();
    await writeFile(join(dir, 'personalities', 'calm.json'), '{ "id": "calm", "name": "Calm" }\n');
    const doc = await store.get('personalities', 'calm');
    expect(doc).toMatchObject({ id: 'calm', name: 'Calm', revision: 0 });
    expect(Date.parse(doc!.createdAt)).toBeGreaterThan(0); // the file's mtime
    const [entry] = await store.scan('personalities');
    expect(entry).toMatchObject({
      file: 'personalities/calm.json',
      id: 'calm',
      raw: { id: 'calm', name: 'Calm' },
    });
    expect(entry?.doc?.revision).toBe(0);
    expect((await store.list('personalities')).map((d) => d.id)).toEqual(['calm']);
    // A create is refused, naming the file as written by hand; the file is left as it was.
    const refused = await store
      .commit([{ op: 'put', kind: 'personalities', doc: { id: 'calm', name: 'Other' }, create: true }])
      .catch((e: unknown) => e as TroupeError);
    expect(refused).toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((refused as TroupeError).message).toMatch(
      /^personalities\/calm\.json already exists \(written by hand, not yet adopted\)/,
    );
    expect(await readFile(join(dir, 'personalities', 'calm.json'), 'utf8')).toBe(
      '{ "id": "calm", "name": "Calm" }\n',
    );
    // Adopting it is a put at revision 0: the store adds its metadata.
    const adopted = await store.put('personalities', { id: 'calm', name: 'Calm' }, { expectedRevision: 0 });
    expect(adopted.revision).toBe(1);
  });

  it('scan lists every json file with its doc or problem, ignoring temp and other files', async () => {
    const { dir, store } = await fresh();
    await store.put('roles', { id: 'good' });
    await store.put('agents', { id: 'agent' });
    await writeFile(join(dir, 'roles', 'broken.json'), '[1,]');
    await writeFile(join(dir, 'roles', 'Bad Name.json'), '{}');
    await writeFile(join(dir, 'roles', 'list.json'), '[]');
    await writeFile(join(dir, 'roles', '.good.json.123-abcd.tmp'), '{"id":');
    await writeFile(join(dir, 'roles', 'notes.txt'), 'hello');
    await mkdir(join(dir, 'roles', 'sub.json'));
    const all = await store.scan();
    expect(all.map((e) => [e.file, e.doc ? 'doc' : e.error?.message])).toEqual([
      [
        'roles/broken.json',
        'invalid JSON at line 1 column 4: trailing comma before "]" is not allowed in JSON',
      ],
      ['roles/good.json', 'doc'],
      ['roles/list.json', 'must be a JSON object, got an array'],
      ['agents/agent.json', 'doc'],
    ]);
    expect((await store.scan('agents')).map((e) => e.id)).toEqual(['agent']);
    expect((await failure(store.list('roles'))).issues).toHaveLength(2);
    // A name that is not `<id>.json` with a valid id is a stray: reported, never read.
    // A folder named like an entity is not one, but is worth a word: it is reported too.
    expect(await store.strays()).toEqual([
      {
        file: 'roles/Bad Name.json',
        why: 'the name is not <id>.json with a valid id (id "Bad Name": must be a lowercase slug: a-z, 0-9 and single dashes, e.g. "calm-analyst")',
      },
      { file: 'roles/notes.txt', why: 'not an <id>.json file (bring YAML in with `troupe import`)' },
      {
        file: 'roles/sub.json',
        why: 'not a regular file (a FIFO, a socket, a device, or a folder named like a file)',
      },
    ]);
  });
});

describe('FileStore concurrency and locking', () => {
  it('two stores on the same directory with concurrent CAS writers: exactly one wins', async () => {
    const { dir, store } = await fresh();
    const other = await FileStore.open(dir);
    await store.put('personalities', { id: 'p', n: 0 });
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? store : other).put('personalities', { id: 'p', n: i + 1 }, { expectedRevision: 1 }),
      ),
    );
    const won = attempts.filter((a) => a.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as TroupeError] : []));
    expect(new Set(lost.map((e) => e.code))).toEqual(new Set(['CONCURRENT_MODIFICATION']));
    expect((await other.get('personalities', 'p'))?.revision).toBe(2);
  });

  it('read-modify-write loops on two stores lose no increment', async () => {
    const { dir, store } = await fresh({ backups: 0 });
    const other = await FileStore.open(dir, { backups: 0 });
    await store.put('models', { id: 'counter', n: 0 });
    const bump = async (s: FileStore) => {
      for (let i = 0; i < 15; i++) await casIncrement(s);
    };
    await Promise.all([bump(store), bump(other), bump(store)]);
    expect((await other.get('models', 'counter'))?.n).toBe(45);
  });

  it('a signal that aborts while the commit waits for the lock stops the wait: CANCELLED, nothing written', async () => {
    const { dir } = await fresh();
    // Without the signal this commit would wait the full minute for the lock.
    const store = await FileStore.open(dir, { lockTimeoutMs: 60_000 });
    const holder = { pid: 1, host: `elsewhere-${hostname()}`, token: 't', since: Date.now() };
    await writeFile(join(dir, '.troupe', 'lock'), JSON.stringify(holder));
    const stop = new AbortController();
    const waiting = store.commit([{ op: 'put', kind: 'roles', doc: { id: 'r' } }], { signal: stop.signal });
    setTimeout(() => stop.abort(new Error('Ctrl-C')), 50);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED', message: 'cancelled: Ctrl-C' });
    await rm(join(dir, '.troupe', 'lock'));
    expect(await store.get('roles', 'r')).toBeUndefined();
  });

  it('waits for a live holder and fails with LOCK_FAILED naming the directory, not to be waited for again by a retry', async () => {
    const { dir } = await fresh();
    const store = await FileStore.open(dir, { lockTimeoutMs: 150 });
    const holder = { pid: 1, host: `elsewhere-${hostname()}`, token: 't', since: Date.now() };
    await writeFile(join(dir, '.troupe', 'lock'), JSON.stringify(holder));
    const started = Date.now();
    const e = await failure(store.put('roles', { id: 'r' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(e.code).toBe('LOCK_FAILED');
    // The wait ran its whole time: a step's retry policy would only triple it.
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(dir);
    expect(await store.get('roles', 'r')).toBeUndefined();
  });

  it('breaks a lock left by a dead process at once, and an untouched remote one once stale', async () => {
    const { dir } = await fresh();
    const lock = join(dir, '.troupe', 'lock');
    const store = await FileStore.open(dir, { lockTimeoutMs: 2000, lockStaleMs: 60_000 });
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), token: 'x', since: 0 }));
    await store.put('roles', { id: 'a' });
    await writeFile(lock, JSON.stringify({ pid: 1, host: `elsewhere-${hostname()}`, token: 'y', since: 0 }));
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    await store.put('roles', { id: 'b' });
    expect((await store.list('roles')).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('a lock that names no holder (empty, garbage) is taken over once a second old, not once stale', async () => {
    const { dir } = await fresh();
    const lock = join(dir, '.troupe', 'lock');
    const store = await FileStore.open(dir, { lockTimeoutMs: 300, lockStaleMs: 60_000 });
    for (const [i, text] of ['', 'garbage', '{"pid":'].entries()) {
      // Just written: it may be a lock its creator is still filling in, and it is waited for.
      await writeFile(lock, text);
      await expect(store.put('roles', { id: `early${i}` })).rejects.toMatchObject({ code: 'LOCK_FAILED' });
      const old = new Date(Date.now() - 2_000);
      await utimes(lock, old, old);
      await store.put('roles', { id: `r${i}` });
    }
    expect((await store.list('roles')).map((d) => d.id)).toEqual(['r0', 'r1', 'r2']);
  });
});

describe('FileStore journal and checkpoints', () => {
  it('checkpoints once the journal holds checkpointCommits commits', async () => {
    const { dir, store } = await fresh({ checkpointCommits: 3 });
    await store.put('roles', { id: 'a' });
    await store.put('roles', { id: 'b' });
    expect(await journalCommits(dir)).toBe(2);
    await store.put('roles', { id: 'c' });
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
    await store.put('roles', { id: 'd' });
    expect(await journalCommits(dir)).toBe(1);
    expect((await store.list('roles')).map((d) => d.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a commit that changes nothing, or fails, writes nothing to the journal', async () => {
    const { dir, store } = await fresh();
    expect((await failure(store.delete('roles', 'missing'))).code).toBe('NOT_FOUND');
    await store.commit([]);
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });

  it('opening replays the journal: restores a file lost or torn since its commit, drops a torn backup', async () => {
    const { dir, store } = await fresh();
    await store.put('roles', { id: 'r', v: 1 });
    await store.put('roles', { id: 'r', v: 2 });
    await store.put('roles', { id: 'gone' });
    await store.put('roles', { id: 'empty' });
    // What a power loss can leave of files renamed into place but not yet fsynced.
    await rm(join(dir, 'roles', 'gone.json'));
    await truncate(join(dir, 'roles', 'empty.json'), 0);
    await truncate(join(dir, '.troupe', 'backups', 'roles', 'r', '1.json'), 3);
    const reopened = await FileStore.open(dir);
    expect((await reopened.list('roles')).map((d) => [d.id, d.revision, d.v])).toEqual([
      ['empty', 1, undefined],
      ['gone', 1, undefined],
      ['r', 2, 2],
    ]);
    expect(await reopened.listBackups('roles', 'r')).toEqual([]);
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });

  it('opening leaves alone a file edited by hand at the same or a higher revision since its commit', async () => {
    const { dir, store } = await fresh();
    const a = await store.put('roles', { id: 'a', v: 1 });
    const b = await store.put('roles', { id: 'b', v: 1 });
    await writeFile(join(dir, 'roles', 'a.json'), JSON.stringify({ ...a, v: 'hand' }));
    await writeFile(join(dir, 'roles', 'b.json'), JSON.stringify({ ...b, v: 'hand', revision: 7 }));
    const reopened = await FileStore.open(dir);
    expect((await reopened.list('roles')).map((d) => [d.id, d.revision, d.v])).toEqual([
      ['a', 1, 'hand'],
      ['b', 7, 'hand'],
    ]);
  });

  it('a failed checkpoint keeps the records; the next commit replays them and rewrites the files', async () => {
    let fail = true;
    const { dir, store } = await fresh({
      checkpointCommits: 2,
      hooks: {
        checkpointSynced: () => {
          if (fail) throw new Error('disk full');
        },
      },
    });
    await store.put('roles', { id: 'a' });
    await store.put('roles', { id: 'b' });
    const journal = parseJournal(await readFile(join(dir, '.troupe', 'journal'))).entries;
    expect(journal.map((e) => e.type)).toEqual(['commit', 'applied', 'commit', 'applied', 'resync']);
    fail = false;
    await store.put('roles', { id: 'c' });
    expect(await journalCommits(dir)).toBe(1);
    expect((await store.list('roles')).map((d) => d.id)).toEqual(['a', 'b', 'c']);
    await store.close();
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });

  it('opening finishes a journal left by a crash of the version that kept one commit per file', async () => {
    const { dir } = await fresh();
    const doc = {
      id: 'w',
      revision: 1,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    };
    // The same frame; that version's body has no sequence number.
    const body = Buffer.from(JSON.stringify({ changes: [{ kind: 'roles', id: 'w', prev: 0, doc }] }));
    const sum = createHash('sha256').update(body).digest('hex');
    await writeFile(
      join(dir, '.troupe', 'journal'),
      Buffer.concat([Buffer.from(`troupe-journal 1 ${body.length} ${sum}\n`), body]),
    );
    const reopened = await FileStore.open(dir);
    expect(await reopened.get('roles', 'w')).toEqual(doc);
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });

  it('works on a store whose journal file is missing (created before it had one)', async () => {
    const { dir } = await fresh();
    await rm(join(dir, '.troupe', 'journal'));
    const store = await FileStore.open(dir);
    await store.put('roles', { id: 'r' });
    expect(await journalCommits(dir)).toBe(1);
    await store.close();
    expect((await stat(join(dir, '.troupe', 'journal'))).size).toBe(0);
  });
});
