import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import type { Store } from './store.js';

/** The behaviour every Store adapter must show; run it from each adapter's test file. */
export function describeStoreContract(
  name: string,
  open: () => Promise<Store>,
  cleanup?: () => Promise<void>,
) {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return isTroupeError(e) ? e.code : `non-troupe: ${String(e)}`;
      }
      return 'no error';
    };

    it('puts and gets a document with revision 1 and timestamps', async () => {
      const doc = await store.put('personalities', { id: 'calm', name: 'Calm' });
      expect(doc).toMatchObject({ id: 'calm', name: 'Calm', revision: 1 });
      expect(Date.parse(doc.createdAt)).not.toBeNaN();
      expect(doc.updatedAt).toBe(doc.createdAt);
      expect(await store.get('personalities', 'calm')).toEqual(doc);
    });

    it('a backup of a revision no store can hold (past 2^31 - 1, say from an If-Match) is none, not an error', async () => {
      await store.put('personalities', { id: 'calm', name: 'Calm' });
      await store.put('personalities', { id: 'calm', name: 'Calmer' });
      if (!store.readBackup) return expect(store.readBackup).toBeUndefined(); // an adapter without backups
      for (const revision of [2_147_483_648, Number.MAX_SAFE_INTEGER])
        expect(await store.readBackup('personalities', 'calm', revision), String(revision)).toBeUndefined();
    });

    it('keeps the revision an update replaced, for a three-way merge of a later conflict', async () => {
      await store.put('personalities', { id: 'calm', name: 'Calm' });
      await store.put('personalities', { id: 'calm', name: 'Calmer' });
      if (!store.readBackup) return expect(store.readBackup).toBeUndefined();
      expect(await store.readBackup('personalities', 'calm', 1)).toMatchObject({ name: 'Calm', revision: 1 });
      expect(await store.readBackup('roles', 'calm', 1)).toBeUndefined();
    });

    it('returns undefined for a missing document and keeps kinds apart', async () => {
      await store.put('roles', { id: 'x', name: 'X' });
      expect(await store.get('personalities', 'x')).toBeUndefined();
      expect(await store.get('roles', 'nope')).toBeUndefined();
    });

    it('increments the revision on each write and keeps createdAt', async () => {
      const a = await store.put('agents', { id: 'a', name: 'A' });
      const b = await store.put('agents', { id: 'a', name: 'B' });
      expect(b.revision).toBe(2);
      expect(b.createdAt).toBe(a.createdAt);
      expect(b.name).toBe('B');
    });

    it('ignores metadata given by the caller', async () => {
      const d = await store.put('agents', { id: 'a', revision: 99, createdAt: 'x', updatedAt: 'y' });
      expect(d.revision).toBe(1);
      expect(d.createdAt).not.toBe('x');
    });

    it("a create keeps the createdAt its op gives (a migration's); a write over an existing document keeps its own", async () => {
      const then = '2020-01-02T03:04:05.678Z';
      await store.commit([{ op: 'put', kind: 'agents', doc: { id: 'a' }, create: true, createdAt: then }]);
      const made = await store.get('agents', 'a');
      expect(made).toMatchObject({ revision: 1, createdAt: then });
      expect(made?.updatedAt).not.toBe(then);
      await store.commit([
        {
          op: 'put',
          kind: 'agents',
          doc: { id: 'a', v: 2 },
          expectedRevision: 1,
          createdAt: '2021-01-01T00:00:00.000Z',
        },
      ]);
      expect(await store.get('agents', 'a')).toMatchObject({ revision: 2, createdAt: then });
    });

    it('lists documents of one kind sorted by id', async () => {
      await store.put('roles', { id: 'b' });
      await store.put('roles', { id: 'a' });
      await store.put('agents', { id: 'c' });
      expect((await store.list('roles')).map((d) => d.id)).toEqual(['a', 'b']);
      expect(await store.list('models')).toEqual([]);
    });

    it('returns copies: mutating a result does not change the store', async () => {
      const d = await store.put('roles', { id: 'r', tags: ['x'] });
      (d.tags as string[]).push('y');
      const got = await store.get('roles', 'r');
      (got!.tags as string[]).push('z');
      expect((await store.get('roles', 'r'))!.tags).toEqual(['x']);
    });

    it('compare-and-swap: a stale expected revision is CONCURRENT_MODIFICATION naming both', async () => {
      await store.put('personalities', { id: 'p', v: 1 });
      await store.put('personalities', { id: 'p', v: 2 }, { expectedRevision: 1 });
      try {
        await store.put('personalities', { id: 'p', v: 3 }, { expectedRevision: 1 });
        expect.unreachable('stale write accepted');
      } catch (e) {
        expect(isTroupeError(e) && e.code).toBe('CONCURRENT_MODIFICATION');
        expect(String((e as Error).message)).toMatch(/expected revision 1, found 2/);
      }
      expect((await store.get('personalities', 'p'))!.v).toBe(2);
    });

    it('expected revision 0 means create-only', async () => {
      await store.put('roles', { id: 'r' }, { expectedRevision: 0 });
      expect(await code(store.put('roles', { id: 'r' }, { expectedRevision: 0 }))).toBe('ALREADY_EXISTS');
    });

    it('a create is refused over any document, whatever revision it names, and writes nothing', async () => {
      await store.put('roles', { id: 'r', v: 1 });
      const create = {
        op: 'put' as const,
        kind: 'roles' as const,
        doc: { id: 'r', v: 2 },
        create: true as const,
      };
      expect(await code(store.commit([create]))).toBe('ALREADY_EXISTS');
      expect(await code(store.commit([{ ...create, expectedRevision: 1 }]))).toBe('ALREADY_EXISTS');
      expect(await store.get('roles', 'r')).toMatchObject({ v: 1, revision: 1 });
      const { results } = await store.commit([{ ...create, doc: { id: 'fresh' } }]);
      expect(results[0]?.doc.revision).toBe(1);
    });

    it('deletes, returning the last state; deleting a missing document is NOT_FOUND', async () => {
      await store.put('agents', { id: 'a', name: 'A' });
      const gone = await store.delete('agents', 'a');
      expect(gone.name).toBe('A');
      expect(await store.get('agents', 'a')).toBeUndefined();
      expect(await code(store.delete('agents', 'a'))).toBe('NOT_FOUND');
    });

    it('delete honours the expected revision', async () => {
      await store.put('agents', { id: 'a' });
      expect(await code(store.delete('agents', 'a', { expectedRevision: 5 }))).toBe(
        'CONCURRENT_MODIFICATION',
      );
      expect(await store.get('agents', 'a')).toBeDefined();
    });

    it.each(['../etc', 'a/b', 'A', 'has space', '', '.', 'a..b', 'x\\y', 'é'])(
      'refuses the id %j',
      async (id) => {
        expect(await code(store.put('roles', { id }))).toBe('VALIDATION_FAILED');
        expect(await store.list('roles')).toEqual([]);
      },
    );

    it('commits a batch across kinds all at once', async () => {
      await store.put('agents', { id: 'old' });
      const r = await store.commit([
        { op: 'put', kind: 'personalities', doc: { id: 'p' } },
        { op: 'put', kind: 'roles', doc: { id: 'r' } },
        { op: 'put', kind: 'agents', doc: { id: 'a', personalityId: 'p' } },
        { op: 'delete', kind: 'agents', id: 'old' },
      ]);
      expect(r.results.map((x) => `${x.op}:${x.kind}/${x.id}`)).toEqual([
        'put:personalities/p',
        'put:roles/r',
        'put:agents/a',
        'delete:agents/old',
      ]);
      expect((await store.list('agents')).map((d) => d.id)).toEqual(['a']);
    });

    it('a batch with one bad op changes nothing', async () => {
      await store.put('personalities', { id: 'p', v: 1 });
      for (const bad of [
        { op: 'put' as const, kind: 'personalities' as const, doc: { id: 'p', v: 9 }, expectedRevision: 7 },
        { op: 'delete' as const, kind: 'roles' as const, id: 'missing' },
        { op: 'put' as const, kind: 'roles' as const, doc: { id: '../x' } },
      ]) {
        const c = await code(
          store.commit([
            { op: 'put', kind: 'roles', doc: { id: 'r1' } },
            { op: 'put', kind: 'personalities', doc: { id: 'p', v: 2 } },
            bad,
          ]),
        );
        expect(c).not.toBe('no error');
        expect(await store.list('roles')).toEqual([]);
        expect((await store.get('personalities', 'p'))!.v).toBe(1);
      }
    });

    it('credits every version to the commit that wrote it: one id per commit, or the one a put names', async () => {
      const { results } = await store.commit([
        { op: 'put', kind: 'roles', doc: { id: 'a' } },
        { op: 'put', kind: 'roles', doc: { id: 'b', commit: 'ignored' } },
      ]);
      const [a, b] = results.map((r) => r.doc.commit);
      expect(typeof a).toBe('string');
      expect(b).toBe(a);
      const next = await store.put('roles', { id: 'a', v: 2 });
      expect(next.commit).not.toBe(a);
      await store.commit([{ op: 'put', kind: 'roles', doc: { id: 'a' }, commit: 'c0ffee' }]);
      expect((await store.get('roles', 'a'))!.commit).toBe('c0ffee');
    });

    it('restores a deleted document with its old revision and timestamps', async () => {
      await store.put('personalities', { id: 'p', v: 1 });
      const before = await store.put('personalities', { id: 'p', v: 2 });
      await store.delete('personalities', 'p');
      const { createdAt, updatedAt, revision, commit } = before;
      await store.commit([
        {
          op: 'put',
          kind: 'personalities',
          doc: { id: 'p', v: 2 },
          expectedRevision: 0,
          restore: { revision, createdAt, updatedAt, ...(commit ? { commit } : {}) },
        },
      ]);
      expect(await store.get('personalities', 'p')).toEqual(before);
      expect(
        await code(
          store.commit([
            {
              op: 'put',
              kind: 'personalities',
              doc: { id: 'p' },
              restore: { revision, createdAt, updatedAt },
            },
          ]),
        ),
      ).toBe('ALREADY_EXISTS');
    });

    it('a check op writes nothing but fails the whole batch when its revision is stale', async () => {
      await store.put('personalities', { id: 'p', v: 1 });
      const put = { op: 'put' as const, kind: 'agents' as const, doc: { id: 'a' } };
      expect(
        await code(store.commit([put, { op: 'check', kind: 'personalities', id: 'p', expectedRevision: 2 }])),
      ).toBe('CONCURRENT_MODIFICATION');
      expect(await store.get('agents', 'a')).toBeUndefined();
      const r = await store.commit([
        put,
        { op: 'check', kind: 'personalities', id: 'p', expectedRevision: 1 },
      ]);
      expect(r.results.map((x) => `${x.op}:${x.kind}/${x.id}`)).toEqual(['put:agents/a']);
      expect((await store.get('personalities', 'p'))!.revision).toBe(1);
    });

    it('an absent guard fails the batch when a matching document exists once it is applied', async () => {
      await store.put('personalities', { id: 'p' });
      await store.put('agents', { id: 'a', personalityId: 'p' });
      await store.put('agents', { id: 'b', personalityId: 'q' });
      const del = { op: 'delete' as const, kind: 'personalities' as const, id: 'p' };
      const absent = { op: 'absent' as const, kind: 'agents' as const, where: { personalityId: 'p' } };
      expect(await code(store.commit([del, absent]))).toBe('CONCURRENT_MODIFICATION');
      expect(await store.get('personalities', 'p')).toBeDefined();
      // Judged on the state after the batch: deleting the user in the same batch satisfies it.
      await store.commit([del, { op: 'delete', kind: 'agents', id: 'a' }, absent]);
      expect(await store.get('personalities', 'p')).toBeUndefined();
      expect(await store.get('agents', 'b')).toBeDefined();
      // And a put in the batch that would match fails it.
      expect(
        await code(
          store.commit([{ op: 'put', kind: 'agents', doc: { id: 'c', personalityId: 'p' } }, absent]),
        ),
      ).toBe('CONCURRENT_MODIFICATION');
      expect(await store.get('agents', 'c')).toBeUndefined();
    });

    it('later ops in one batch see earlier ones', async () => {
      const r = await store.commit([
        { op: 'put', kind: 'roles', doc: { id: 'r', v: 1 }, expectedRevision: 0 },
        { op: 'put', kind: 'roles', doc: { id: 'r', v: 2 }, expectedRevision: 1 },
      ]);
      expect(r.results[1]!.doc.revision).toBe(2);
      expect((await store.get('roles', 'r'))!.v).toBe(2);
    });

    it('concurrent CAS writers: exactly one wins per revision, none lost', async () => {
      await store.put('personalities', { id: 'p', n: 0 });
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.put('personalities', { id: 'p', n: i + 1 }, { expectedRevision: 1 }),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      expect((await store.get('personalities', 'p'))!.revision).toBe(2);
    });

    it('concurrent unconditional writers all land', async () => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.put('agents', { id: `a${i}` })));
      expect(await store.list('agents')).toHaveLength(10);
    });

    it('a commit whose signal has aborted is refused with CANCELLED and writes nothing', async () => {
      await store.put('personalities', { id: 'p', n: 1 });
      const stop = new AbortController();
      stop.abort(new Error('changed my mind'));
      await expect(
        store.commit(
          [
            { op: 'put', kind: 'personalities', doc: { id: 'p', n: 2 } },
            { op: 'put', kind: 'agents', doc: { id: 'a' } },
          ],
          { signal: stop.signal },
        ),
      ).rejects.toMatchObject({ code: 'CANCELLED', message: 'cancelled: changed my mind' });
      expect((await store.get('personalities', 'p'))?.n).toBe(1);
      expect(await store.list('agents')).toEqual([]);
      // A signal that never aborts changes nothing about a commit.
      await store.commit([{ op: 'put', kind: 'agents', doc: { id: 'a' } }], {
        signal: new AbortController().signal,
      });
      expect(await store.list('agents')).toHaveLength(1);
    });
  });
}
