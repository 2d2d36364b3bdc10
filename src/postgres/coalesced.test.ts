import { describe, expect, it } from 'vitest';
import { Coalesced } from './coalesced.js';

describe('Coalesced', () => {
  it('lookups asked for in one turn are fetched in one call, each distinct key once', async () => {
    const calls: string[][] = [];
    const c = new Coalesced<number>(async (keys) => {
      calls.push(keys);
      return new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.length]));
    });
    const got = await Promise.all([c.get('a'), c.get('bb'), c.get('a'), c.get('none')]);
    expect(got).toEqual([1, 2, 1, undefined]);
    expect(calls).toEqual([['a', 'bb', 'none']]);
    expect(await c.get('ccc')).toBe(3); // a later turn: a call of its own
    expect(calls).toHaveLength(2);
  });

  it('a failed fetch fails every lookup in it, and only those', async () => {
    let fail = true;
    const c = new Coalesced<number>(async (keys) => {
      if (fail) throw new Error('database away');
      return new Map(keys.map((k) => [k, 1]));
    });
    const both = Promise.allSettled([c.get('a'), c.get('b')]);
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await c.get('a')).toBe(1);
  });
});
