/** A source of uniform numbers in [0, 1); jitter and sampling take one instead of Math.random. */
export interface Random {
  next(): number;
}

/** The platform's generator. */
export const mathRandom: Random = { next: () => Math.random() };

/** A small deterministic generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
