import { describe, expect, it } from 'vitest';
import { TroupeError } from '../../domain/errors.js';
import { VirtualClock } from '../clock.js';
import { seededRandom } from '../random.js';
import { capture } from './result.js';
import { executeWithRetry, retryDelay } from './retry.js';

describe('retryDelay', () => {
  it('is base × multiplier^(n−1): 100, 200, 400, capped by maxDelayMs', () => {
    const opts = { maxAttempts: 5, baseDelayMs: 100, multiplier: 2 };
    expect([1, 2, 3, 4].map((n) => retryDelay(opts, n))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4].map((n) => retryDelay({ ...opts, maxDelayMs: 300 }, n))).toEqual([
      100, 200, 300, 300,
    ]);
    expect(retryDelay({ maxAttempts: 3, baseDelayMs: 50, multiplier: 3 }, 3)).toBe(450);
  });

  it('keeps ±25% jitter within 75–125, 150–250 and 300–500 over many seeds, and uses the range', () => {
    const opts = { maxAttempts: 4, baseDelayMs: 100, multiplier: 2, jitterPercent: 25 };
    const bounds: Array<[number, number]> = [
      [75, 125],
      [150, 250],
      [300, 500],
    ];
    const seen = bounds.map(() => ({ min: Infinity, max: -Infinity }));
    for (let seed = 0; seed < 2_000; seed++) {
      const random = seededRandom(seed);
      bounds.forEach(([lo, hi], i) => {
        const d = retryDelay(opts, i + 1, random);
        expect(d).toBeGreaterThanOrEqual(lo);
        expect(d).toBeLessThanOrEqual(hi);
        const s = seen[i] as { min: number; max: number };
        s.min = Math.min(s.min, d);
        s.max = Math.max(s.max, d);
      });
    }
    // Jitter really spreads the delays (not stuck at the base value).
    expect(seen[0]).toEqual({ min: 75, max: 125 });
    expect(seen[2]?.min).toBeLessThan(310);
    expect(seen[2]?.max).toBeGreaterThan(490);
  });
});

describe('executeWithRetry', () => {
  it('waits 100 then 200 ms between attempts through the clock', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    const delays: number[] = [];
    const result = executeWithRetry(
      { maxAttempts: 3, baseDelayMs: 100, multiplier: 2 },
      { clock, onRetry: (i) => delays.push(i.delayMs) },
      (attempt) =>
        capture(async () => {
          at.push(clock.now());
          if (attempt < 3) throw new TroupeError('TRANSIENT', 'try again');
          return 'ok';
        }),
    );
    expect(await clock.drive(result)).toEqual({ ok: true, value: 'ok' });
    expect(at).toEqual([0, 100, 300]);
    expect(delays).toEqual([100, 200]);
  });

  it('does not retry a permanent error: one attempt', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const r = await executeWithRetry({ maxAttempts: 5, baseDelayMs: 100 }, { clock }, () =>
      capture(async () => {
        calls++;
        throw new TroupeError('PERMANENT', 'no');
      }),
    );
    expect(r.ok).toBe(false);
    expect(calls).toBe(1);
    // Plain errors are permanent too.
    const plain = await executeWithRetry({ maxAttempts: 5, baseDelayMs: 100 }, { clock }, () =>
      capture(async () => {
        calls++;
        throw new Error('bug');
      }),
    );
    expect(plain.ok).toBe(false);
    expect(calls).toBe(2);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const r = await clock.drive(
      executeWithRetry({ maxAttempts: 4, baseDelayMs: 10 }, { clock }, () =>
        capture(async () => {
          calls++;
          throw new TroupeError('TIMEOUT', `attempt ${calls}`);
        }),
      ),
    );
    expect(calls).toBe(4);
    expect(!r.ok && (r.error as Error).message).toBe('attempt 4');
    expect(clock.now()).toBe(10 + 20 + 40);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const pending = executeWithRetry(
      { maxAttempts: 3, baseDelayMs: 1_000 },
      { clock, signal: controller.signal },
      () =>
        capture(async () => {
          throw new TroupeError('TRANSIENT', 'down');
        }),
    );
    await clock.advance(10);
    controller.abort();
    const r = await pending;
    expect(!r.ok && (r.error as TroupeError).code).toBe('CANCELLED');
  });
});
