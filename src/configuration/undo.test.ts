import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { FileStore } from '../storage/file/store.js';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';
import { applyUndo, commitWithUndo, contentHash } from './undo.js';

describe('commitWithUndo / applyUndo', () => {
  const setup = async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'kept', v: 1 });
    await store.put('roles', { id: 'gone', v: 1 });
    const intents: unknown[] = [];
    const c = await commitWithUndo(
      store,
      [
        { op: 'put', kind: 'roles', doc: { id: 'kept', v: 2 } },
        { op: 'delete', kind: 'roles', id: 'gone' },
        { op: 'put', kind: 'roles', doc: { id: 'new', v: 1 } },
      ],
      async (d) => {
        intents.push(d);
      },
    );
    return { store, c, intents };
  };
  const state = async (store: MemoryStore) => (await store.list('roles')).map((d) => `${d.id}:${d.v}`);

  it('records the undo before committing, and the undo restores the before-state', async () => {
    const { store, c, intents } = await setup();
    expect(intents).toEqual([{ undo: c.undo, touched: c.touched, unconfirmed: true }]);
    await applyUndo(store, c.undo);
    expect(await state(store)).toEqual(['gone:1', 'kept:1']);
  });

  it('is idempotent: applying the same undo twice changes nothing the second time', async () => {
    const { store, c } = await setup();
    await applyUndo(store, c.undo);
    const after = await store.list('roles');
    await applyUndo(store, c.undo);
    expect(await store.list('roles')).toEqual(after);
  });

  it('skips ops whose commit never happened (a crash before the commit)', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'kept', v: 1 });
    let undo: Parameters<typeof applyUndo>[1] = [];
    await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'kept', v: 2 } }], async (d) => {
      undo = d.undo;
      throw new Error('died');
    }).catch(() => undefined);
    await applyUndo(store, undo);
    expect(await state(store)).toEqual(['kept:1']);
    expect((await store.get('roles', 'kept'))!.revision).toBe(1);
  });

  it('a commit refused whole is followed in the log by an intent that undoes nothing (the last one is what recovery reads)', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 1 });
    const logged: Array<{ undo: unknown[] }> = [];
    // Another writer gets there between this commit's read and its write: refused at commit.
    const commit = store.commit.bind(store);
    store.commit = async (ops, opts) => {
      store.commit = commit;
      await store.put('roles', { id: 'r', v: 'theirs' });
      return commit(ops, opts);
    };
    const e = await commitWithUndo(
      store,
      [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 2 }, expectedRevision: 1 }],
      async (d) => {
        logged.push(structuredClone(d)); // the log keeps a copy, as a run log does
      },
    ).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe('CONCURRENT_MODIFICATION');
    expect(logged.map((d) => d.undo.length)).toEqual([1, 0]);
    expect(await state(store)).toEqual(['r:theirs']);
  });

  it('skips the undo of a document someone else wrote since, naming both revisions', async () => {
    const { store, c } = await setup();
    const theirs = await store.put('roles', { id: 'kept', v: 99 });
    const r = await applyUndo(store, c.undo);
    expect(r.skipped).toEqual([
      { key: 'roles/kept', wroteRevision: theirs.revision - 1, foundRevision: theirs.revision },
    ]);
    expect((await store.get('roles', 'kept'))!.v).toBe(99);
    // All or nothing: with one document taken over, the rest of the change is kept too.
    expect(r.kept.sort()).toEqual(['roles/gone', 'roles/new']);
    expect(await state(store)).toEqual(['kept:99', 'new:1']);
  });

  it("a later identical write by another commit is not this run's: its undo leaves it", async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 'base' });
    const a = await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 'a' } }]);
    await store.put('roles', { id: 'r', v: 'x' });
    const theirs = await store.put('roles', { id: 'r', v: 'a' }); // the same content, acknowledged
    const r = await applyUndo(store, a.undo);
    expect(r.skipped).toEqual([{ key: 'roles/r', wroteRevision: 2, foundRevision: 4 }]);
    expect(await store.get('roles', 'r')).toEqual(theirs);
  });

  it('a document deleted, then created again exactly as it was by someone else, is theirs: not taken as undone', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 1 });
    const d = await commitWithUndo(store, [{ op: 'delete', kind: 'roles', id: 'r' }]);
    const theirs = await store.put('roles', { id: 'r', v: 1 }, { expectedRevision: 0 });
    const r = await applyUndo(store, d.undo);
    expect(r.skipped).toEqual([{ key: 'roles/r', wroteRevision: 0, foundRevision: 1 }]);
    expect(await store.get('roles', 'r')).toEqual(theirs);
  });

  it("a create that a failed cascade deleted: its undo waits for the cascade's undo to bring it back, then removes it", async () => {
    const store = new MemoryStore();
    const a = await commitWithUndo(store, [
      { op: 'put', kind: 'roles', doc: { id: 'x', v: 1 }, expectedRevision: 0 },
    ]);
    const b = await commitWithUndo(store, [{ op: 'delete', kind: 'roles', id: 'x' }]);
    // The create's undo first: its document is gone, deleted by another change, so it is skipped.
    expect((await applyUndo(store, a.undo)).skipped).toEqual([
      { key: 'roles/x', wroteRevision: 1, foundRevision: 0 },
    ]);
    await applyUndo(store, b.undo); // puts x back, credited to the create's commit
    expect((await applyUndo(store, a.undo)).skipped).toEqual([]);
    expect(await store.get('roles', 'x')).toBeUndefined();
  });

  it('an undo that loses its race to another writer is judged again on what is stored then', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'x', v: 1 });
    const d = await commitWithUndo(store, [{ op: 'delete', kind: 'roles', id: 'x' }]);
    // Between the undo's read and its commit, someone creates x anew.
    const commit = store.commit.bind(store);
    store.commit = async (ops) => {
      store.commit = commit;
      await store.put('roles', { id: 'x', v: 'theirs' }, { expectedRevision: 0 });
      return commit(ops);
    };
    const r = await applyUndo(store, d.undo);
    expect(r.skipped).toEqual([{ key: 'roles/x', wroteRevision: 0, foundRevision: 1 }]);
    expect((await store.get('roles', 'x'))!.v).toBe('theirs');
  });

  it('an unconfirmed intent is not proven by another commit writing exactly what it planned', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 1 });
    let undo: Parameters<typeof applyUndo>[1] = [];
    await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 2 } }], async (d) => {
      undo = d.undo;
      throw new Error('died before its commit');
    }).catch(() => undefined);
    // Someone else writes the very content, at the very revision, this run had planned.
    const theirs = await store.put('roles', { id: 'r', v: 2 });
    expect(theirs.revision).toBe(undo[0]!.expectedRevision);
    await applyUndo(store, undo, undefined, { unconfirmed: true });
    expect(await store.get('roles', 'r')).toEqual(theirs);
  });

  it('refuses, before recording anything, a write whose expected revision the read contradicts', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 1 });
    const intents: unknown[] = [];
    const record = async (d: unknown) => {
      intents.push(d);
    };
    const stale = commitWithUndo(
      store,
      [{ op: 'put', kind: 'roles', doc: { id: 'r' }, expectedRevision: 5 }],
      record,
    );
    await expect(stale).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    expect(intents).toEqual([]);
  });

  it('a create replaces nothing: its undo is a delete of its own version, even where the read found one', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 'old' });
    // Someone deletes r between this run's read and its commit: the create then commits.
    const commit = store.commit.bind(store);
    store.commit = async (ops) => {
      store.commit = commit;
      await store.delete('roles', 'r');
      return commit(ops);
    };
    const c = await commitWithUndo(store, [
      { op: 'put', kind: 'roles', doc: { id: 'r', v: 'new' }, create: true },
    ]);
    expect(c.undo.map((u) => u.op)).toEqual(['delete']);
    await applyUndo(store, c.undo);
    expect(await store.get('roles', 'r')).toBeUndefined();
  });

  it("reads before its commit only what a write replaces: a create's target is not read", async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'old', v: 1 });
    const read: string[] = []; // before the commit (the store's own reads in it are not counted)
    let committing = false;
    const [get, commit] = [store.get.bind(store), store.commit.bind(store)];
    store.get = (kind, id) => {
      if (!committing) read.push(`${kind}/${id}`);
      return get(kind, id);
    };
    store.commit = (ops, opts) => {
      committing = true;
      return commit(ops, opts);
    };
    const c = await commitWithUndo(store, [
      { op: 'put', kind: 'roles', doc: { id: 'a', v: 1 }, create: true },
      { op: 'put', kind: 'roles', doc: { id: 'old', v: 2 } },
      { op: 'put', kind: 'roles', doc: { id: 'a', v: 2 } },
    ]);
    expect(read).toEqual(['roles/old']);
    expect(c.undo.map((u) => `${u.op} ${u.kind}/${u.op === 'put' ? u.doc.id : u.id}`)).toEqual([
      'delete roles/a',
      'put roles/old',
    ]);
    await applyUndo(store, c.undo);
    expect((await store.list('roles')).map((d) => `${d.id}:${d.v}`)).toEqual(['old:1']);
  });

  it('never undoes a write that lost its race: the winner has the revision this run expected', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 1 });
    const recorded: Array<{ undo: unknown[] }> = [];
    // Both writers read revision 1; the winner commits first and is handed revision 2.
    const commit = store.commit.bind(store);
    store.commit = async (ops) => {
      store.commit = commit;
      await store.put('roles', { id: 'r', v: 'winner' });
      return commit(ops);
    };
    const loser = commitWithUndo(
      store,
      [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 'loser' } }],
      async (d) => {
        recorded.push(d);
      },
    );
    await expect(loser).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    expect(recorded[0]!.undo).toEqual([]); // refused as a whole: nothing to undo in this process
    // A recovery that reads the intent from the log still finds nothing of this run to undo.
    const undoAsLogged = [
      {
        op: 'put',
        kind: 'roles',
        doc: { id: 'r', v: 1 },
        expectedRevision: 2,
        beforeRevision: 1,
        beforeHash: contentHash({ id: 'r', v: 1 }),
        wrote: contentHash({ id: 'r', v: 'loser' }),
      },
    ] as const;
    const r = await applyUndo(store, [...undoAsLogged]);
    expect(r.skipped).toHaveLength(1);
    expect((await store.get('roles', 'r'))!.v).toBe('winner');
  });

  it('an identical put writes nothing and bumps no revision', async () => {
    const store = new MemoryStore();
    const before = await store.put('roles', { id: 'same', v: 1 });
    const r = await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'same', v: 1 } }]);
    expect(r.unchanged).toBe(true);
    expect(await store.get('roles', 'same')).toEqual(before);
  });

  it('two failed changes stacked on one document leave neither: the first undo, retried after the second, finds its content back', async () => {
    const store = new MemoryStore();
    await store.put('roles', { id: 'r', v: 'base' });
    const a = await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 'a' } }]);
    const b = await commitWithUndo(store, [{ op: 'put', kind: 'roles', doc: { id: 'r', v: 'b' } }]);
    // A's undo first: B wrote on top, so it is skipped (and retried by its step's policy).
    expect((await applyUndo(store, a.undo)).skipped).toHaveLength(1);
    // B's undo brings back what A wrote, at a later revision; A's retried undo then applies.
    await applyUndo(store, b.undo);
    const back = (await store.get('roles', 'r'))!;
    expect(back.v).toBe('a');
    expect(back.commit).toBe(a.results![0]!.doc.commit); // credited to A's commit again
    expect((await applyUndo(store, a.undo)).skipped).toEqual([]);
    expect((await store.get('roles', 'r'))!.v).toBe('base');
  });
});

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the version a failed change wrote, then undid', () => {
  it('is kept as a backup: a client that read it (its ETag) merges onto the undo with it as the base', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-undo-'));
    dirs.push(dir);
    const store = await FileStore.init(dir);
    let failVerify = false;
    const config = new ConfigurationService(store, {
      wrapHandlers: (h): ServiceHandlers => {
        const conf = h.configuration ?? {};
        const verify = conf.verify!;
        return {
          ...h,
          configuration: {
            ...conf,
            verify: async (i, ctx) => {
              if (failVerify) throw new TroupeError('PERMANENT', 'verify failed (injected)');
              return verify(i, ctx);
            },
          },
        };
      },
    });
    const bigFive = {
      openness: 60,
      conscientiousness: 80,
      extraversion: 30,
      agreeableness: 60,
      neuroticism: 10,
    };
    await config.createPersonality({ id: 'calm', name: 'Calm', description: 'D1', bigFive });
    failVerify = true;
    await config.updatePersonality('calm', { description: 'D2' }).catch(() => undefined); // r2, undone as r3
    failVerify = false;
    expect((await store.listBackups('personalities', 'calm')).map((b) => b.revision)).toEqual([2, 1]);
    // A client read r2 while the run was in flight, and renames it, merging (first-write-wins).
    await config.updatePersonality(
      'calm',
      { name: 'Renamed' },
      { expectedRevision: 2, strategy: 'first-write-wins' },
    );
    expect(await store.get('personalities', 'calm')).toMatchObject({ name: 'Renamed', description: 'D1' });
  });
});
