import { describe, expect, it, vi } from 'vitest';
import { WriteBehind } from './write-behind.js';

type Item = { n: number };

/** A write function that records each call and can be held open or made to fail. */
function recorder() {
  const calls: { key: string; items: number[]; durable: boolean }[] = [];
  let open = 0;
  let overlapped = false;
  let fail: Error | undefined;
  let hold: Promise<void> | undefined;
  const write = async (key: string, items: Item[], durable: boolean) => {
    if (++open > 1) overlapped = true;
    try {
      await hold;
      if (fail) throw fail;
      calls.push({ key, items: items.map((i) => i.n), durable });
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

/** Runs `fn` on vitest's fake timers, and puts the real ones back whatever happens. */
async function onFakeTimers(fn: () => Promise<void>): Promise<void> {
  vi.useFakeTimers();
  try {
    await fn();
  } finally {
    vi.useRealTimers();
  }
}

/** A queue whose first write (of item 1, key "a") is under way and held until `release`. */
async function holdingFirstWrite() {
  const r = recorder();
  const q = new WriteBehind<Item>(r.write);
  let release: () => void = () => {};
  r.holdUntil(
    new Promise<void>((res) => {
      release = res;
    }),
  );
  q.add('a', { n: 1 });
  await turn();
  return { r, q, release };
}

describe('WriteBehind', () => {
  it('sends what was added in one turn as one write per key, in order', async () => {
    const r = recorder();
    const q = new WriteBehind<Item>(r.write);
    q.add('a', { n: 1 });
    q.add('b', { n: 10 });
    q.add('a', { n: 2 });
    expect(r.calls).toEqual([]); // nothing written yet: add returns at once
    await turn();
    await q.sendAll();
    expect(r.calls).toEqual([
      { key: 'a', items: [1, 2], durable: false },
      { key: 'b', items: [10], durable: false },
    ]);
  });

  it('a send carries everything queued before it, after the writes already under way, never overlapping', async () => {
    const { r, q, release } = await holdingFirstWrite(); // the background write of [1] starts, and is held
    q.add('a', { n: 2 });
    q.add('a', { n: 3 });
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
    const q = new WriteBehind<Item>(r.write);
    r.failWith(new Error('database away'));
    q.add('a', { n: 1 });
    await turn();
    await turn();
    q.add('a', { n: 2 });
    await expect(q.send('a', true)).rejects.toThrow('database away');
    r.failWith(undefined);
    q.add('a', { n: 3 });
    await q.send('a', true);
    expect(r.calls).toEqual([{ key: 'a', items: [1, 2, 3], durable: true }]);
  });

  it('a durable send makes durable the write that takes its items, even an earlier send waiting its turn', async () => {
    const { r, q, release } = await holdingFirstWrite(); // a background write of [1] is under way, held
    q.add('a', { n: 2 });
    const waiting = q.send('a', false); // a read's send, waiting its turn
    q.add('a', { n: 3 }); // the durable one
    const durable = q.send('a', true);
    r.holdUntil(undefined);
    release();
    await Promise.all([waiting, durable]);
    expect(r.calls).toEqual([
      { key: 'a', items: [1], durable: false },
      { key: 'a', items: [2, 3], durable: true },
    ]);
  });

  it('an item a failed write put back, written since by another send, is not written again when added again', async () => {
    const r = recorder();
    const q = new WriteBehind<Item>(r.write);
    const final = { n: 9 };
    r.failWith(new Error('away'));
    q.add('a', final);
    await expect(q.send('a', true)).rejects.toThrow('away');
    r.failWith(undefined);
    await q.send('a', false); // another send (a read) writes it, durably: the durable send asked so
    expect(q.has('a', final)).toBe(true);
    if (!q.has('a', final)) q.add('a', final); // what a retried append does
    await q.send('a', true);
    expect(r.calls).toEqual([{ key: 'a', items: [9], durable: true }]);
  });

  it('a held key goes out only through its hold: the background flush and a send wait for the release', async () => {
    const r = recorder();
    const q = new WriteBehind<Item>(r.write);
    const held = await q.hold('a');
    const intent = { n: 2 };
    q.add('a', { n: 1 });
    q.add('a', intent);
    q.add('a', { n: 3 }); // a durable event of another step, appended while the key is held
    q.add('b', { n: 10 }); // another key is not held
    await turn();
    const sent = q.send('a', true);
    await turn();
    expect(r.calls).toEqual([{ key: 'b', items: [10], durable: false }]);
    const carried: number[][] = [];
    await held.write(intent, async (items) => {
      carried.push(items.map((i) => i.n));
    });
    held.release();
    await sent;
    expect(carried).toEqual([[1, 2]]); // through the intent, by the hold's own write
    expect(r.calls).toEqual([
      { key: 'b', items: [10], durable: false },
      { key: 'a', items: [3], durable: true },
    ]);
    expect(q.has('a', intent)).toBe(true);
  });

  it("a hold waits for the key's writes under way; its failed write puts its items back in front", async () => {
    const { r, q, release } = await holdingFirstWrite(); // a background write of [1] is under way
    let holding = false;
    const hold = q.hold('a').then((h) => {
      holding = true;
      return h;
    });
    await turn();
    expect(holding).toBe(false);
    r.holdUntil(undefined);
    release();
    const held = await hold;
    const intent = { n: 2 };
    q.add('a', intent);
    q.add('a', { n: 3 });
    await expect(
      held.write(intent, async () => {
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(q.queued('a').map((i) => i.n)).toEqual([2, 3]);
    await expect(q.hold('a')).rejects.toThrow(/held already/);
    held.release();
    await q.sendAll();
    expect(r.calls).toEqual([
      { key: 'a', items: [1], durable: false },
      { key: 'a', items: [2, 3], durable: false },
    ]);
  });

  it('with a delay, what is added within it goes out as one write', () =>
    onFakeTimers(async () => {
      const r = recorder();
      const q = new WriteBehind<Item>(r.write, { delayMs: 25 });
      q.add('a', { n: 1 });
      await vi.advanceTimersByTimeAsync(10);
      q.add('a', { n: 2 });
      expect(r.calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(20);
      expect(r.calls).toEqual([{ key: 'a', items: [1, 2], durable: false }]);
    }));

  it("with a delay, each key waits its own: one added late is not swept out by another's flush", () =>
    onFakeTimers(async () => {
      const r = recorder();
      const q = new WriteBehind<Item>(r.write, { delayMs: 25 });
      q.add('a', { n: 1 });
      await vi.advanceTimersByTimeAsync(20);
      q.add('b', { n: 2 });
      await vi.advanceTimersByTimeAsync(10);
      expect(r.calls).toEqual([{ key: 'a', items: [1], durable: false }]);
      await vi.advanceTimersByTimeAsync(20);
      expect(r.calls).toEqual([
        { key: 'a', items: [1], durable: false },
        { key: 'b', items: [2], durable: false },
      ]);
    }));

  it('a send that failed is tried again in the background by itself, with nothing more added', () =>
    onFakeTimers(async () => {
      const r = recorder();
      const q = new WriteBehind<Item>(r.write);
      r.failWith(new Error('database away'));
      let answer: () => void = () => {};
      r.holdUntil(
        new Promise<void>((done) => {
          answer = done;
        }),
      );
      q.add('a', { n: 1 });
      const sent = q.send('a', true);
      sent.catch(() => undefined);
      // The add's own background flush comes and finds nothing queued: the send has it.
      await vi.advanceTimersByTimeAsync(1);
      r.holdUntil(undefined);
      answer(); // the send's write fails only now, with no background flush due
      await expect(sent).rejects.toThrow('database away');
      r.failWith(undefined);
      await vi.advanceTimersByTimeAsync(150);
      expect(r.calls).toEqual([{ key: 'a', items: [1], durable: true }]);
    }));

  it('a background write that failed is tried again by itself, with nothing more added', () =>
    onFakeTimers(async () => {
      const r = recorder();
      const q = new WriteBehind<Item>(r.write, { delayMs: 25 });
      r.failWith(new Error('database away'));
      q.add('a', { n: 1 });
      await vi.advanceTimersByTimeAsync(30);
      expect(r.calls).toEqual([]);
      r.failWith(undefined);
      await vi.advanceTimersByTimeAsync(150);
      expect(r.calls).toEqual([{ key: 'a', items: [1], durable: false }]);
    }));
});
