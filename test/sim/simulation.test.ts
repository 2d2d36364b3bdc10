import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stat } from '../stats.js';
import { simulation } from './simulation.js';

// `npm run simulate -- --runs N [--seed S]` runs more of the same, and replays a failure.
const RUNS = Number(process.env.TROUPE_SIM_RUNS ?? 2000);

describe('seeded simulation: random operations, interleavings and faults on a virtual clock', () => {
  it(`${RUNS} cases: the store is the model moved by what was acknowledged, rejected writes change nothing, always consistent`, {
    timeout: 600_000,
  }, async () => {
    const seed = process.env.TROUPE_SIM_SEED ? Number(process.env.TROUPE_SIM_SEED) : Date.now() % 2 ** 31;
    await fc.assert(simulation, { numRuns: RUNS, seed });
    stat('seeded simulation', 'cases', RUNS);
    stat('seeded simulation', `seed`, seed);
  });
});
