import { describe, expect, it } from 'vitest';
import { TroupeError } from '../../domain/errors.js';
import { VirtualClock } from '../clock.js';
import { seededRandom } from '../random.js';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { attemptEvents, type Call, type Policy, startCall, wrap } from './policy.js';
import { codeOf, fail, ok, type Result } from './result.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';

const transient = () => new TroupeError('IO_ERROR', 'connection reset', { retryable: true });

/** Advances virtual time until `p` settles (retry waits included). */
async function settled<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => {
    done = true;
  });
  while (!done) await clock.advance(10);
  return p;
}

/** A policy of the caller's own that records what it is handed: it composes like the built-in ones. */
const recording = (name: string, log: string[]): Policy => ({
  async execute<T>(fn: (call: Call) => Promise<Result<T>>, call: Call = startCall()) {
    log.push(`${name}>${call.attempt}`);
    const r = await fn(call);
    log.push(`${name}<${r.ok ? 'ok' : codeOf(r.error)}`);
    return r;
  },
});

describe('policies composed with wrap', () => {
  it('runs outermost first: a layer outside retry sees one call, a layer inside sees every attempt', async () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    let calls = 0;
    const policy = wrap(
      recording('outer', log),
      retry({ maxAttempts: 3, baseDelayMs: 10 }, { clock, random: seededRandom(1) }),
      recording('inner', log),
    );
    const r = await settled(
      clock,
      policy.execute(async () => (++calls < 3 ? fail(transient()) : ok('done'))),
    );
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(log).toEqual([
      'outer>1',
      'inner>1',
      'inner<IO_ERROR',
      'inner>2',
      'inner<IO_ERROR',
      'inner>3',
      'inner<ok',
      'outer<ok',
    ]);
  });

  it('a timeout inside retry times each attempt and hands the call its own signal', async () => {
    const clock = new VirtualClock();
    const signals: AbortSignal[] = [];
    const events: string[] = [];
    const policy = wrap(
      retry({ maxAttempts: 2, baseDelayMs: 5 }, { clock }),
      attemptEvents(clock),
      timeout(100, { clock, label: 'svc.op' }),
    );
    const pending = policy.execute(
      async ({ signal }) => {
        signals.push(signal as AbortSignal);
        await clock.sleep(1_000, signal);
        return ok('late');
      },
      startCall(
        undefined,
        {
          attemptStart: (n) => events.push(`start ${n}`),
          attemptEnd: (n, r, ms) => events.push(`end ${n} ${r.ok ? 'ok' : codeOf(r.error)} ${ms}`),
          retryScheduled: (i) => events.push(`retry ${i.nextAttempt} in ${i.delayMs}`),
        },
        4,
      ),
    );
    await clock.advance(100);
    await clock.advance(5);
    await clock.advance(100);
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(codeOf((r as { error: unknown }).error)).toBe('TIMEOUT');
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(signals[0]).not.toBe(signals[1]);
    // Attempts are numbered on from the call's: a re-run of a step keeps counting.
    expect(events).toEqual(['start 4', 'end 4 TIMEOUT 100', 'retry 5 in 5', 'start 5', 'end 5 TIMEOUT 100']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the caller’s signal reaches every layer: a bulkhead queue and a retry wait both stop on it', async () => {
    const clock = new VirtualClock();
    const pool = new Bulkhead('p', { maxConcurrent: 1, maxQueue: 1 });
    let release: () => void = () => {};
    const first = pool.execute(
      () => new Promise<Result<number>>((resolve) => (release = () => resolve(ok(1)))),
    );
    const controller = new AbortController();
    const queued = wrap(pool, retry({ maxAttempts: 3, baseDelayMs: 10 }, { clock })).execute(
      async () => ok(2),
      startCall(controller.signal),
    );
    expect(pool.queued).toBe(1);
    controller.abort();
    expect(codeOf(((await queued) as { error: unknown }).error)).toBe('CANCELLED');
    release();
    await first;

    const waiting = new AbortController();
    const retried = wrap(retry({ maxAttempts: 3, baseDelayMs: 1_000 }, { clock })).execute(
      async () => fail(transient()),
      startCall(waiting.signal),
    );
    await clock.advance(0);
    waiting.abort();
    expect(codeOf(((await retried) as { error: unknown }).error)).toBe('CANCELLED');
  });

  it('a breaker outside retry counts the retried call once and tells only its own call of a transition', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker('svc', { failureThreshold: 2, recoveryMs: 1_000 }, clock);
    const policy = wrap(breaker, retry({ maxAttempts: 3, baseDelayMs: 1 }, { clock }));
    const heard: CircuitState[][] = [[], []];
    let attempts = 0;
    const failing = async () => {
      attempts++;
      return fail(transient());
    };
    await settled(
      clock,
      policy.execute(failing, startCall(undefined, { circuit: (s) => heard[0]?.push(s) })),
    );
    expect([breaker.state, attempts, breaker.failures]).toEqual(['closed', 3, 1]);
    await settled(
      clock,
      policy.execute(failing, startCall(undefined, { circuit: (s) => heard[1]?.push(s) })),
    );
    expect([breaker.state, attempts]).toEqual(['open', 6]);
    expect(heard).toEqual([[], ['open']]);
    const r = await settled(clock, policy.execute(failing));
    expect([codeOf((r as { error: unknown }).error), attempts]).toEqual(['CIRCUIT_OPEN', 6]);
  });

  it('leaves out absent layers, and an empty composition is the call itself', async () => {
    const log: string[] = [];
    const r = await wrap(undefined, recording('only', log), undefined).execute(async (c) => ok(c.attempt));
    expect([r, log]).toEqual([{ ok: true, value: 1 }, ['only>1', 'only<ok']]);
    expect(await wrap().execute(async () => ok('bare'))).toEqual({ ok: true, value: 'bare' });
  });
});
