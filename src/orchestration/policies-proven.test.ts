import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import type { ServiceHandlers } from './handlers.js';
import { WorkflowRunner } from './runner.js';

// Each test here fails if one policy promise is broken: a compensation run without its step's
// policy, a parent abort that does not reach a step under a timeout, a step started on a signal
// already aborted, a breaker whose new thresholds are ignored.

const runner = (services: ServiceHandlers, clock = new VirtualClock()) => ({
  clock,
  runner: new WorkflowRunner({ services, clock }),
});

/** Whether `p` has settled after the microtasks now queued have run. */
async function settledYet(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 50; i++) await Promise.resolve();
  return done;
}

describe('a compensation runs under its step’s policy', () => {
  const saga = (undo: () => Promise<unknown>) =>
    runner({
      svc: {
        work: async () => ({ made: true }),
        undo,
        fail: async () => {
          throw new TroupeError('PERMANENT', 'later step failed');
        },
      },
    });
  const def = (policy: Record<string, unknown>) =>
    workflow('saga')
      .step('a', 'svc', 'work', { compensate: { operation: 'undo' }, policy })
      .step('b', 'svc', 'fail', { dependsOn: ['a'], policy: { retry: { maxAttempts: 1, baseDelayMs: 1 } } })
      .build();

  it('its retry: an undo that fails once, transiently, is tried again and succeeds', async () => {
    let calls = 0;
    const { clock, runner: r } = saga(async () => {
      calls++;
      if (calls === 1) throw new TroupeError('TRANSIENT', 'busy');
    });
    const result = await clock.drive(r.run(def({ retry: { maxAttempts: 3, baseDelayMs: 10 } })));
    expect(calls).toBe(2);
    expect(result.status).toBe('compensated');
    expect(result.compensationFailures).toEqual([]);
  });

  it('its timeout: an undo that hangs is cut off at the step’s timeout, the run does not hang', async () => {
    const { clock, runner: r } = saga(() => new Promise(() => {}));
    const pending = r.run(def({ timeoutMs: 200, retry: { maxAttempts: 1, baseDelayMs: 1 } }));
    await clock.advance(199);
    expect(await settledYet(pending)).toBe(false);
    await clock.advance(1);
    expect(await settledYet(pending)).toBe(true);
    const result = await pending;
    expect(result.status).toBe('failed');
    expect(result.compensationFailures.map((f) => f.error.code)).toEqual(['TIMEOUT']);
  });
});

describe('cancellation', () => {
  it('a parent abort reaches a step that runs under a timeout, at once', async () => {
    let abortedAt: number | undefined;
    const clock = new VirtualClock();
    const { runner: r } = runner(
      {
        svc: {
          slow: async (_i, ctx) => {
            ctx.signal.addEventListener('abort', () => {
              abortedAt = ctx.clock.now();
            });
            await ctx.clock.sleep(60_000, ctx.signal);
          },
        },
      },
      clock,
    );
    const def = workflow('w')
      .step('s', 'svc', 'slow', { policy: { timeoutMs: 10_000, retry: { maxAttempts: 1, baseDelayMs: 1 } } })
      .build();
    const parent = new AbortController();
    const pending = r.run(def, undefined, { signal: parent.signal });
    await clock.advance(100);
    parent.abort();
    await clock.advance(0);
    expect(abortedAt).toBe(100);
    const result = await clock.drive(pending);
    expect(result.status).not.toBe('completed');
    expect(result.error?.code).toBe('CANCELLED');
  });

  it('a run started on a signal already aborted calls no handler', async () => {
    let calls = 0;
    const { clock, runner: r } = runner({
      svc: {
        work: async () => {
          calls++;
        },
      },
    });
    const def = workflow('w')
      .step('s', 'svc', 'work', { policy: { timeoutMs: 1000 } })
      .build();
    const parent = new AbortController();
    parent.abort();
    const result = await clock.drive(r.run(def, undefined, { signal: parent.signal }));
    expect(calls).toBe(0);
    expect(result.error?.code).toBe('CANCELLED');
  });
});

describe('a circuit breaker takes new thresholds', () => {
  it('a later workflow that lowers the failure threshold of a service opens its circuit sooner', async () => {
    let calls = 0;
    const { clock, runner: r } = runner({
      svc: {
        flaky: async () => {
          calls++;
          throw new TroupeError('TRANSIENT', 'down');
        },
      },
    });
    const run = (failureThreshold: number) =>
      clock.drive(
        r.run(
          workflow(`w${failureThreshold}`)
            .step('s', 'svc', 'flaky', {
              policy: {
                retry: { maxAttempts: 1, baseDelayMs: 1 },
                circuitBreaker: { failureThreshold, recoveryMs: 60_000 },
              },
            })
            .build(),
        ),
      );
    // Threshold 5: one failure leaves the circuit closed.
    await run(5);
    expect(calls).toBe(1);
    // Threshold 2 from now on: this second consecutive failure opens it...
    await run(2);
    expect(calls).toBe(2);
    // ...so the next call fails fast without reaching the service.
    const third = await run(2);
    expect(calls).toBe(2);
    expect(third.error?.code).toBe('CIRCUIT_OPEN');
  });
});
