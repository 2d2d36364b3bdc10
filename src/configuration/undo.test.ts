import { describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import { MemoryStore } from '../storage/memory/store.js';
import { applyUndo, commitWithUndo } from './undo.js';

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
    expect(intents).toEqual([{ undo: c.undo, touched: c.touched }]);
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

  it('refuses to undo over a change made by someone else since', async () => {
    const { store, c } = await setup();
    await store.put('roles', { id: 'kept', v: 99 });
    const e = await applyUndo(store, c.undo).catch((x: unknown) => x);
    expect(isTroupeError(e) && e.code).toBe('CONCURRENT_MODIFICATION');
    expect((await store.get('roles', 'kept'))!.v).toBe(99);
  });
});
