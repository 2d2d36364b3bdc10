import { describe, expect, it } from 'vitest';
import { DurablePoints } from './durable-points.js';

describe('durable points', () => {
  it('a claim of a run another held is durable before its new holder undoes anything; progress is not', () => {
    const points = new DurablePoints();
    expect(points.mustPersist('r', { type: 'claimed', at: 1, holder: { pid: 1, host: 'h' }, epoch: 2 })).toBe(
      true,
    );
    expect(points.mustPersist('r', { type: 'state', at: 1, from: 'pending', to: 'running', epoch: 2 })).toBe(
      false,
    );
    expect(
      points.mustPersist('r', { type: 'state', at: 2, from: 'running', to: 'compensated', epoch: 2 }),
    ).toBe(true);
  });
});
