import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../storage/file/index.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, failure, reviewer } from './test-setup.test-helper.js';
import { applyUndo, commitWithUndo } from './undo.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const fresh = async (opts: Parameters<typeof FileStore.init>[1] = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-hand-'));
  dirs.push(dir);
  return { dir, store: await FileStore.init(dir, opts) };
};
const HAND = '{ "id": "h", "v": "by hand" }\n';

describe('a file written by hand (revision 0) is never lost to a write that planned without it', () => {
  for (const kind of ['agents', 'resolved'] as const) {
    it(`create-agent refuses ${kind}/a1.json written by hand between its plan and its commit, and leaves it`, async () => {
      const { dir, store } = await fresh();
      const config = new ConfigurationService(store);
      const file = join(dir, kind, 'a1.json');
      const body = JSON.stringify({ id: 'a1', note: 'mine' });
      const commit = store.commit.bind(store);
      store.commit = async (ops, opts) => {
        store.commit = commit;
        await writeFile(file, body); // after the plan found no such file
        return commit(ops, opts);
      };
      const e = await failure(
        config.createAgent({ agent: agentInput('a1'), personality: calm, role: reviewer }),
      );
      expect(e.code).toBe('ALREADY_EXISTS');
      expect(e.message).toContain(`${kind}/a1.json already exists (written by hand, not yet adopted)`);
      expect(await readFile(file, 'utf8')).toBe(body);
      expect(await store.list('personalities')).toEqual([]);
      expect(await store.list('roles')).toEqual([]);
      await store.close();
    });
  }

  it('a write over it at revision 0 (adopting it) is undone by putting it back, not by deleting it', async () => {
    const { dir, store } = await fresh();
    await writeFile(join(dir, 'roles', 'h.json'), HAND);
    const c = await commitWithUndo(store, [
      { op: 'put', kind: 'roles', doc: { id: 'h', v: 'adopted' }, expectedRevision: 0 },
    ]);
    expect(await store.get('roles', 'h')).toMatchObject({ v: 'adopted', revision: 1 });
    expect(c.undo.map((u) => u.op)).toEqual(['put']);
    await applyUndo(store, c.undo);
    expect(await store.get('roles', 'h')).toMatchObject({ id: 'h', v: 'by hand' });
    await store.close();
  });

  it('create-agent refuses a resolved file written by hand before it began, and leaves it', async () => {
    const { dir, store } = await fresh();
    const body = JSON.stringify({ id: 'a1', note: 'mine' });
    await writeFile(join(dir, 'resolved', 'a1.json'), body);
    const config = new ConfigurationService(store);
    const e = await failure(
      config.createAgent({ agent: agentInput('a1'), personality: calm, role: reviewer }),
    );
    expect(e.code).toBe('ALREADY_EXISTS');
    expect(e.message).toContain('resolved/a1.json already exists (written by hand, not yet adopted)');
    expect(await readFile(join(dir, 'resolved', 'a1.json'), 'utf8')).toBe(body);
    await store.close();
  });

  /** roles/h.json written by hand, then deleted by an undoable commit. */
  const deletedByHand = async () => {
    const { dir, store } = await fresh();
    await writeFile(join(dir, 'roles', 'h.json'), HAND);
    const c = await commitWithUndo(store, [{ op: 'delete', kind: 'roles', id: 'h', expectedRevision: 0 }]);
    return { dir, store, c };
  };

  it('the undo of its delete leaves a newer file written by hand since, and says so', async () => {
    const { dir, store, c } = await deletedByHand();
    const newer = '{ "id": "h", "v": "newer, by hand" }\n';
    await writeFile(join(dir, 'roles', 'h.json'), newer);
    const undone = await applyUndo(store, c.undo);
    expect(undone.skipped.map((x) => x.key)).toEqual(['roles/h']);
    expect(await readFile(join(dir, 'roles', 'h.json'), 'utf8')).toBe(newer);
    await store.close();
  });

  it('a delete of it is undone by bringing it back', async () => {
    const { store, c } = await deletedByHand();
    expect(await store.get('roles', 'h')).toBeUndefined();
    await applyUndo(store, c.undo);
    expect(await store.get('roles', 'h')).toMatchObject({ id: 'h', v: 'by hand' });
    await store.close();
  });

  it("is kept when written during a create's own commit, after its commit point and before its file is placed", async () => {
    let hand: (() => Promise<void>) | undefined;
    const { dir, store } = await fresh({ hooks: { afterJournal: () => hand?.() } });
    const file = join(dir, 'roles', 'h.json');
    hand = () => writeFile(file, HAND); // the journal says committed; no file is placed yet
    await store.commit([{ op: 'put', kind: 'roles', doc: { id: 'h', v: 'created' }, create: true }]);
    expect(await readFile(file, 'utf8')).toBe(HAND);
    expect(await store.get('roles', 'h')).toMatchObject({ v: 'by hand', revision: 0 });
    await store.close();
  });

  it.each([
    ['', HAND],
    [' (one the store refuses to read: a key given twice)', '{ "id": "h", "v": "by hand", "v": "typo" }\n'],
  ])(
    'is kept by the recovery of a create that died after its commit point, before its file was placed%s',
    async (_what, handText) => {
      let hand: (() => Promise<void>) | undefined;
      const { dir, store } = await fresh({ hooks: { afterJournal: () => hand?.() } });
      const file = join(dir, 'roles', 'h.json');
      hand = async () => {
        await writeFile(file, handText);
        throw new Error('the process dies here'); // the commit's record stands, nothing applied
      };
      await expect(
        store.commit([
          { op: 'put', kind: 'roles', doc: { id: 'h', v: 'created' }, create: true },
          { op: 'put', kind: 'roles', doc: { id: 'other', v: 'created' }, create: true },
        ]),
      ).rejects.toThrow('the process dies here');
      const next = await FileStore.open(dir); // recovers: the commit is replayed
      expect(await readFile(file, 'utf8')).toBe(handText);
      expect(await next.get('roles', 'other')).toMatchObject({ v: 'created', revision: 1 });
      await next.close();
      await store.close().catch(() => undefined);
    },
  );

  it('an agent written by hand whose personality is missing is not reported fixed by reconcile: it cannot be composed', async () => {
    const { dir, store } = await fresh();
    const body = JSON.stringify({ ...agentInput('bob', { personalityId: 'nope', roleId: 'analyst' }) });
    await writeFile(join(dir, 'agents', 'bob.json'), body);
    const r = await new ConfigurationService(store).reconcile();
    expect(r.fixed.filter((f) => f.entity === 'bob')).toEqual([]);
    expect(r.remaining.map((f) => f.message)).toContainEqual(
      expect.stringMatching(
        /agents\/bob\.json.*not yet adopted.*: it cannot be composed while personality "nope" is missing/,
      ),
    );
    expect(await readFile(join(dir, 'agents', 'bob.json'), 'utf8')).toBe(body);
    await store.close();
  });

  it('a role written by hand with the id of a predefined role is reported, never adopted: agents keep the predefined one', async () => {
    const { dir, store } = await fresh();
    const config = new ConfigurationService(store);
    await config.createPersonality(calm);
    await config.createAgent({ agent: agentInput('bo', { personalityId: 'calm', roleId: 'analyst' }) });
    const body = JSON.stringify({ id: 'analyst', name: 'Mine', systemPrompt: 'Hand written.' });
    await writeFile(join(dir, 'roles', 'analyst.json'), body);
    for (let i = 0; i < 2; i++) {
      const found = await config.detectInconsistencies();
      expect(found.map((f) => [f.file, f.fixable])).toEqual([['roles/analyst.json', false]]);
      expect(found[0]?.message).toMatch(
        /is the id of the predefined role "analyst", which a file never replaces/,
      );
      expect((await config.reconcile()).fixed).toEqual([]);
    }
    expect(await readFile(join(dir, 'roles', 'analyst.json'), 'utf8')).toBe(body);
    await store.close();
  });

  /**
   * Role `h` at revision 1, edited by hand into `edit(text)` while an update of it dies after
   * its journal record; then opened again, which recovers (replays the update over the edit).
   */
  async function editedAsUpdateDied(edit: (text: string) => string | Buffer) {
    let hand: (() => Promise<void>) | undefined;
    const { dir, store } = await fresh({ hooks: { afterJournal: () => hand?.() } });
    await store.put('roles', { id: 'h', v: 'one' });
    const file = join(dir, 'roles', 'h.json');
    const edited = edit(await readFile(file, 'utf8'));
    hand = async () => {
      hand = undefined;
      await writeFile(file, edited);
      throw new Error('the process dies here');
    };
    await expect(store.put('roles', { id: 'h', v: 'two' })).rejects.toThrow('the process dies here');
    const next = await FileStore.open(dir);
    expect(await next.get('roles', 'h')).toMatchObject({ v: 'two', revision: 2 });
    await next.close();
    await store.close().catch(() => undefined);
    return { edited, kept: join(dir, '.troupe', 'backups', 'roles', 'h') };
  }

  it('edited by hand into text that is not JSON while a commit over it died: recovery keeps those very bytes', async () => {
    const { edited, kept } = await editedAsUpdateDied(() => '{ "id": "h", "v": "half-way through my edit\n');
    const names = (await readdir(kept)).filter((n) => n.startsWith('unreadable-'));
    expect(names).toHaveLength(1);
    expect(await readFile(join(kept, names[0]!), 'utf8')).toBe(edited);
  });

  it('edited by hand into bytes that are not UTF-8 while a commit over it died: recovery backs up those very bytes', async () => {
    const { edited, kept } = await editedAsUpdateDied((text) => {
      const [before, after] = text.split('"one"') as [string, string];
      return Buffer.concat([Buffer.from(`${before}"caf`), Buffer.from([0xe9]), Buffer.from(`"${after}`)]); // é in Latin-1
    });
    expect(await readFile(join(kept, '1.json'))).toEqual(edited);
  });
});
