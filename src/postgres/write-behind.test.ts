import { describe, expect, it } from 'vitest';
import { WriteBehind } from './write-behind.js';

/** A write function that records each call and can be held open or made to fail. */
function recorder() {
  const calls: { key: string; items: number[]; durable: boolean }[] = [];
  let open = 0;
  let overlapped = false;
  let fail: Error | undefined;
  let hold: Promise<void> | undefined;
  const write = async (key: string, items: number[], durable: boolean) => {
    if (++open > 1) overlapped = true;
    try {
      await hold;
      if (fail) throw fail;
      calls.push({ key, items: [...items], durable });
    } finally {
      open--;
    }
  };
  return {
    calls,
    write,
    overlapped: () => overlapped,
    failWith: (e: Error | undefined) => {
      fail = e;
    },
    holdUntil: (p: Promise<void> | undefined) => {
      hold = p;
    },
  };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('WriteBehind', () => {
  it('sends what was added in one turn as one write per key, in order', async () => {
    const r = recorder();
    const q = new WriteBehind<number>(r.write);
    q.add('a', 1);
    q.add('b', 10);
    q.add('a', 2);
    expect(r.calls).toEqual([]); // nothing written yet: add returns at once
    await turn();
    await q.sendAll();
    expect(r.calls).toEqual([
      { key: 'a', items: [1, 2], durable: false },
      { key: 'b', items: [10], durable: false },
    ]);
  });

  it('a send carries everything queued before it, after the writes already under way, never overlapping', async () => {
    const r = recorder();
    const q = new WriteBehind<number>(r.write);
    let release: () => void = () => {};
    r.holdUntil(
      new Promise<void>((res) => {
        release = res;
      }),
    );
    q.add('a', 1);
    await turn(); // the background write of [1] starts, and is held
    q.add('a', 2);
    q.add('a', 3);
    const sent = q.send('a', true);
    r.holdUntil(undefined);
    release();
    await sent;
    expect(r.overlapped()).toBe(false);
    expect(r.calls).toEqual([
      { key: 'a', items: [1], durable: false },
      { key: 'a', items: [2, 3], durable: true },
    ]);
  });

  it('a failed write keeps its items in front: the next send writes them and reports any error', async () => {
    const r = recorder();
    const q = new WriteBehind<number>(r.write);
    r.failWith(new Error('database away'));
    q.add('a', 1);
    await turn();
    await turn();
    q.add('a', 2);
    await expect(q.send('a', true)).rejects.toThrow('database away');
    r.failWith(undefined);
    q.add('a', 3);
    await q.send('a', true);
    expect(r.calls).toEqual([{ key: 'a', items: [1, 2, 3], durable: true }]);
  });
});
