import { describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../../domain/errors.js';
import { VirtualClock } from '../clock.js';
import { executeWithTimeout } from './timeout.js';

describe('executeWithTimeout', () => {
  it('aborts the signal with a retryable TIMEOUT at the deadline', async () => {
    const clock = new VirtualClock();
    let seen: AbortSignal | undefined;
    const pending = executeWithTimeout(2_000, { clock, label: 'comm.send' }, async (signal) => {
      seen = signal;
      await clock.sleep(10_000, signal);
      return 'never';
    });
    await clock.advance(1_999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const r = await pending;
    expect(seen?.aborted).toBe(true);
    expect(isTroupeError(seen?.reason) && seen.reason.code).toBe('TIMEOUT');
    expect(r.ok).toBe(false);
    const error = (r as { error: TroupeError }).error;
    expect([error.code, error.retryable, error.message]).toEqual([
      'TIMEOUT',
      true,
      'comm.send timed out after 2000 ms',
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('times out even when the handler ignores its signal', async () => {
    const clock = new VirtualClock();
    const pending = executeWithTimeout(50, { clock, label: 'x' }, () => new Promise(() => {}));
    await clock.advance(50);
    expect((await pending).ok).toBe(false);
  });

  it('clears its timer when the call finishes first', async () => {
    const clock = new VirtualClock();
    const r = await executeWithTimeout(1_000, { clock, label: 'x' }, async () => 42);
    expect(r).toEqual({ ok: true, value: 42 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends with CANCELLED when the parent signal aborts', async () => {
    const clock = new VirtualClock();
    const parent = new AbortController();
    const pending = executeWithTimeout(
      undefined,
      { clock, label: 'x', signal: parent.signal },
      () => new Promise(() => {}),
    );
    parent.abort();
    const r = await pending;
    expect(!r.ok && (r.error as TroupeError).code).toBe('CANCELLED');
  });

  it('a call that knows its work is large pushes its deadline out, and times out at the new one', async () => {
    const clock = new VirtualClock();
    let aborted: AbortSignal | undefined;
    const pending = executeWithTimeout(100, { clock, label: 'file.persist' }, async (signal, extend) => {
      aborted = signal;
      extend(500); // a commit of many files, once planned
      await clock.sleep(10_000, signal);
    });
    await clock.advance(499);
    expect(aborted?.aborted).toBe(false);
    await clock.advance(1);
    const r = await pending;
    expect(!r.ok && (r.error as TroupeError).message).toBe(
      'file.persist timed out after 500 ms (its timeout of 100 ms, extended for its work)',
    );
    expect(clock.pendingTimers).toBe(0);
  });

  it('an extension never brings the deadline closer', async () => {
    const clock = new VirtualClock();
    const pending = executeWithTimeout(100, { clock, label: 'x' }, async (signal, extend) => {
      extend(10);
      await clock.sleep(50, signal);
      return 'done';
    });
    await clock.advance(50);
    expect(await pending).toEqual({ ok: true, value: 'done' });
  });
});
