import { describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import { realClock, VirtualClock } from './clock.js';
import { seededRandom } from './random.js';

describe('VirtualClock', () => {
  it('starts at the given time and only moves when advanced', async () => {
    const clock = new VirtualClock({ start: 1_000 });
    expect(clock.now()).toBe(1_000);
    await clock.advance(250);
    expect(clock.now()).toBe(1_250);
  });

  it('fires due timers in time order, ties in creation order, and not the ones beyond', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 301);
    await clock.advance(300);
    expect(fired).toEqual(['a@100', 'b@200', 'c@200']);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(301);
  });

  it('lets code awaiting a sleep run before the next timer fires', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    void (async () => {
      await clock.sleep(100);
      seen.push(`first woke at ${clock.now()}`);
      await Promise.resolve();
      await clock.sleep(50); // due at 150, before the 200 timer below
      seen.push(`second woke at ${clock.now()}`);
    })();
    clock.setTimeout(() => seen.push(`timer at ${clock.now()}`), 200);
    await clock.advance(1_000);
    expect(seen).toEqual(['first woke at 100', 'second woke at 150', 'timer at 200']);
  });

  it('cancels a timer', async () => {
    const clock = new VirtualClock();
    let fired = false;
    const cancel = clock.setTimeout(() => {
      fired = true;
    }, 10);
    cancel();
    await clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a sleep with CANCELLED when its signal aborts, and removes its timer', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('stop'));
    const error = await sleeping.catch((e: unknown) => e);
    expect(isTroupeError(error) && error.code).toBe('CANCELLED');
    expect(clock.pendingTimers).toBe(0);
    await expect(clock.sleep(5, controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('runAll fires timers created by timers until idle', async () => {
    const clock = new VirtualClock();
    const times: number[] = [];
    const tick = (n: number) => {
      times.push(clock.now());
      if (n > 0) clock.setTimeout(() => tick(n - 1), 10);
    };
    clock.setTimeout(() => tick(3), 5);
    await clock.runAll();
    expect(times).toEqual([5, 15, 25, 35]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runAll refuses to spin forever', async () => {
    const clock = new VirtualClock();
    const again = () => {
      clock.setTimeout(again, 1);
    };
    again();
    await expect(clock.runAll(50)).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('drive moves time until a promise settles', async () => {
    const clock = new VirtualClock();
    const value = await clock.drive(clock.sleep(2_000).then(() => clock.now()));
    expect(value).toBe(2_000);
  });
});

describe('realClock', () => {
  it('sleeps for real and cancels', async () => {
    const t0 = realClock.now();
    await realClock.sleep(5);
    expect(realClock.now() - t0).toBeGreaterThanOrEqual(4);
    let fired = false;
    realClock.setTimeout(() => {
      fired = true;
    }, 1)();
    await realClock.sleep(5);
    expect(fired).toBe(false);
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1_000 }, () => a.next());
    expect(Array.from({ length: 1_000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(seededRandom(43).next()).not.toBe(xs[0]);
  });
});
