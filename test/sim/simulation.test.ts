import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stat } from '../stats.js';
import { simulation } from './simulation.js';

// A fixed seed, so every run of npm test checks the same cases; `npm run simulate -- --runs N
// [--seed S]` explores from fresh seeds, and replays a failure.
const RUNS = Number(process.env.TROUPE_SIM_RUNS ?? 2000);

/** Cases the simulation found, each a defect fixed at its root: replayed exactly, shrunk. */
const FOUND: Array<[string, { seed: number; path: string }]> = [
  [
    'an agent brought back by an undo is composed again against a role another undo reverted',
    { seed: 850896713, path: '881:1:0:2:2:2:4:2:1:2:1:4:7:4:5:3' },
  ],
];

describe('seeded simulation: random operations, interleavings and faults on a virtual clock', () => {
  it(`${RUNS} cases: the store is the model moved by what was acknowledged, rejected writes change nothing, always consistent`, {
    timeout: 600_000,
  }, async () => {
    const seed = process.env.TROUPE_SIM_SEED ? Number(process.env.TROUPE_SIM_SEED) : 20261201;
    await fc.assert(simulation, { numRuns: RUNS, seed });
    stat('seeded simulation', 'cases', RUNS);
    stat('seeded simulation', `seed`, seed);
  });
});

describe('cases the simulation found', () => {
  it.each(FOUND)('%s', async (_name, { seed, path }) => {
    await fc.assert(simulation, { seed, path, numRuns: 1, endOnFailure: true });
  });
});
