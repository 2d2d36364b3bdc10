import { describe, expect, it } from 'vitest';
import { measure, PLAN_BUDGETS, planFigures, stats } from './performance.js';

/** A fake time source and a fn that "takes" the next duration of the list on each call. */
function scripted(durations: number[]) {
  let t = 0;
  let i = 0;
  return {
    now: () => t,
    fn: () => {
      t += durations[i++] ?? 0;
    },
    calls: () => i,
  };
}

describe('figures that cannot be durations', () => {
  it('stats refuses NaN, Infinity and negative durations, and measure a clock that goes back', async () => {
    for (const bad of [
      [Number.NaN, 1, 2],
      [1, Number.POSITIVE_INFINITY],
      [3, -1],
    ])
      expect(() => stats(bad)).toThrow(/^stats: a duration must be a finite number of ms, not negative/);
    let t = 100;
    await expect(measure(() => undefined, { runs: 3, warmup: 0, now: () => (t -= 10) })).rejects.toThrow(
      /a clock that went back/,
    );
  });
});

describe('measure', () => {
  it('computes median, p95, min, max and mean of the timed runs, not the warmup', async () => {
    const s = scripted([1000, 1000, 5, 1, 4, 2, 3, 10, 6, 9, 7, 8]);
    const r = await measure(s.fn, { runs: 10, warmup: 2, now: s.now });
    expect(r).toEqual({ runs: 10, median: 5.5, p95: 10, min: 1, max: 10, mean: 5.5 });
    expect(s.calls()).toBe(12);
  });

  it('takes the middle value for an odd count and the nearest rank for p95', async () => {
    const s = scripted([5, 1, 4, 2, 3]);
    expect(await measure(s.fn, { runs: 5, warmup: 0, now: s.now })).toEqual({
      runs: 5,
      median: 3,
      p95: 5,
      min: 1,
      max: 5,
      mean: 3,
    });
    expect(stats(Array.from({ length: 100 }, (_, i) => i + 1)).p95).toBe(95);
  });

  it('awaits an async fn before stopping the timer', async () => {
    let t = 0;
    const r = await measure(
      async () => {
        await Promise.resolve();
        t += 3;
      },
      { runs: 4, warmup: 1, now: () => t },
    );
    expect(r).toMatchObject({ runs: 4, median: 3, min: 3, max: 3 });
  });

  it('runs 200 times after 20 warmup runs by default, on the real clock', async () => {
    let calls = 0;
    const r = await measure(() => {
      calls++;
    });
    expect(calls).toBe(220);
    expect(r.runs).toBe(200);
    expect(r.min).toBeGreaterThanOrEqual(0);
    expect(r.max).toBeGreaterThanOrEqual(r.p95);
    expect(r.p95).toBeGreaterThanOrEqual(r.median);
  });

  it('refuses nonsense', async () => {
    expect(() => stats([])).toThrow(/no durations/);
    await expect(measure(() => {}, { runs: 0 })).rejects.toThrow(/runs must be an integer ≥ 1/);
  });
});

describe('planFigures', () => {
  it('measures the three figures of the plan against their budgets', async () => {
    let loads = 0;
    const f = await planFigures({
      loadFixtures: () => {
        loads++;
        return {};
      },
      runs: 5,
      warmup: 1,
    });
    expect(loads).toBe(6);
    expect(f.fixtureLoad).toMatchObject({ name: 'fixture load', budgetMs: PLAN_BUDGETS.fixtureLoad });
    expect(f.fakeCreation).toMatchObject({ budgetMs: 50, withinBudget: true });
    expect(f.fakeCreation.ratio).toBeCloseTo(50 / f.fakeCreation.median);
    expect(f.coordinationOverhead.budgetMs).toBe(10);
    expect(f.coordinationOverhead.workflow.runs).toBe(5);
    expect(f.coordinationOverhead.direct.runs).toBe(5);
    expect(f.coordinationOverhead.median).toBeCloseTo(
      f.coordinationOverhead.workflow.median - f.coordinationOverhead.direct.median,
    );
  });
});
