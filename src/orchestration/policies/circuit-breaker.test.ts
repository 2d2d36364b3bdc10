import { describe, expect, it } from 'vitest';
import { TroupeError } from '../../domain/errors.js';
import { VirtualClock } from '../clock.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { startCall } from './policy.js';
import { capture, fail, ok, type Result } from './result.js';

const failing = () => Promise.resolve(fail(new TroupeError('TIMEOUT', 'slow')));
const working = () => Promise.resolve(ok('fine'));

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and fails fast until recovery', async () => {
    const clock = new VirtualClock();
    const changes: string[] = [];
    const b = new CircuitBreaker('comm', { failureThreshold: 3, recoveryMs: 5_000 }, clock, (from, to) =>
      changes.push(`${from}→${to}@${clock.now()}`),
    );
    await b.execute(failing);
    await b.execute(failing);
    expect(b.state).toBe('closed');
    await b.execute(failing);
    expect(b.state).toBe('open');
    let called = false;
    const r = await b.execute(async () => {
      called = true;
      return ok(1);
    });
    expect(called).toBe(false);
    expect(!r.ok && (r.error as TroupeError).code).toBe('CIRCUIT_OPEN');
    expect(!r.ok && (r.error as TroupeError).retryable).toBe(false);
    expect(!r.ok && (r.error as TroupeError).context.retryAt).toBe(5_000);
    await clock.advance(4_999);
    expect(b.state).toBe('open');
    expect((await b.execute(working)).ok).toBe(false);
    await clock.advance(1);
    expect(b.state).toBe('half-open');
    expect(await b.execute(working)).toEqual({ ok: true, value: 'fine' });
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['closed→open@0', 'open→half-open@5000', 'half-open→closed@5000']);
  });

  it('a success resets the consecutive count', async () => {
    const b = new CircuitBreaker('s', { failureThreshold: 2, recoveryMs: 10 }, new VirtualClock());
    await b.execute(failing);
    await b.execute(working);
    await b.execute(failing);
    expect(b.state).toBe('closed');
    expect(b.failures).toBe(1);
  });

  it('a failed probe opens the circuit again for another recovery window', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker('s', { failureThreshold: 2, recoveryMs: 3_000 }, clock);
    await b.execute(failing);
    await b.execute(failing);
    await clock.advance(3_000);
    await b.execute(failing);
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(6_000);
  });

  it('lets exactly one probe through while half-open', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker('s', { failureThreshold: 1, recoveryMs: 100 }, clock);
    await b.execute(failing);
    await clock.advance(100);
    let release: () => void = () => {};
    const probe = b.execute(
      () =>
        new Promise<Result<string>>((resolve) => {
          release = () => resolve(ok('probe'));
        }),
    );
    const second = await b.execute(working);
    expect(!second.ok && (second.error as TroupeError).code).toBe('CIRCUIT_OPEN');
    release();
    expect((await probe).ok).toBe(true);
    expect(b.state satisfies CircuitState).toBe('closed');
  });

  it('does not count answers from a healthy service (validation, not found, conflict)', async () => {
    const b = new CircuitBreaker('s', { failureThreshold: 1, recoveryMs: 100 }, new VirtualClock());
    await b.execute(() => capture(() => Promise.reject(new TroupeError('NOT_FOUND', 'no such agent'))));
    await b.execute(() => capture(() => Promise.reject(new TroupeError('VALIDATION_FAILED', 'bad'))));
    expect(b.state).toBe('closed');
    await b.execute(() => capture(() => Promise.reject(new Error('socket hang up'))));
    expect(b.state).toBe('open');
  });
});

describe('transitions are told to the call that caused them', () => {
  it('a call still running when a parallel call opens the circuit hears nothing of it', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker('comm', { failureThreshold: 1, recoveryMs: 5_000 }, clock);
    const heard: Record<string, CircuitState[]> = { slow: [], failing: [] };
    let finish: () => void = () => {};
    const slow = b.execute(
      () =>
        new Promise<Result<string>>((resolve) => {
          finish = () => resolve(ok('done'));
        }),
      startCall(undefined, { circuit: (to) => heard.slow?.push(to) }),
    );
    await b.execute(failing, startCall(undefined, { circuit: (to) => heard.failing?.push(to) }));
    expect(b.state).toBe('open');
    finish();
    await slow;
    expect(heard).toEqual({ slow: [], failing: ['open'] });
  });

  it('a probe hears the state it left the circuit in', async () => {
    const clock = new VirtualClock();
    const b = new CircuitBreaker('comm', { failureThreshold: 1, recoveryMs: 100 }, clock);
    await b.execute(failing);
    await clock.advance(100);
    const heard: CircuitState[] = [];
    await b.execute(working, startCall(undefined, { circuit: (to) => heard.push(to) }));
    expect(heard).toEqual(['closed']);
  });
});
