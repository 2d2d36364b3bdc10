import { describe, expect, it } from 'vitest';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import { workflow } from '../orchestration/builder.js';
import { VirtualClock } from '../orchestration/clock.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { fakeHandlers, fakeService } from './fakes.js';
import { FaultInjector } from './faults.js';

/** A tiny service whose calls are counted, so a test can tell whether the real method ran. */
function setup() {
  const clock = new VirtualClock();
  const faults = new FaultInjector({ clock });
  const real = {
    calls: 0,
    async get(id: string) {
      this.calls++;
      return { id };
    },
    async list() {
      this.calls++;
      return ['a', 'b'];
    },
  };
  const svc = fakeService(real, 'svc', faults, clock);
  return { clock, faults, real, svc };
}

/** Settles a promise into a value or the error, without throwing. */
const settled = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );

/** Watch a promise: `state()` says whether it has settled yet. */
function watch<T>(p: Promise<T>) {
  let done = false;
  const result = settled(p).finally(() => {
    done = true;
  });
  return { state: () => (done ? 'settled' : 'pending'), result };
}

describe('FaultInjector: error faults', () => {
  it('fails the next n calls with the code, then lets calls through to the real method', async () => {
    const { faults, real, svc } = setup();
    faults.failNext('svc', 2);
    const first = await settled(svc.get('x'));
    const second = await settled(svc.get('y'));
    const third = await svc.get('z');
    expect(isTroupeError(first.error) && first.error.code).toBe('TRANSIENT');
    expect((first.error as TroupeError).retryable).toBe(true);
    expect((first.error as TroupeError).context).toEqual({
      service: 'svc',
      operation: 'get',
      injected: true,
    });
    expect(isTroupeError(second.error) && second.error.code).toBe('TRANSIENT');
    expect(third).toEqual({ id: 'z' });
    expect(real.calls).toBe(1);
    expect(faults.calls.map((c) => c.outcome)).toEqual(['fault', 'fault', 'ok']);
    expect(faults.rules()).toEqual([]);
  });

  it('applies a rule to its operation only, and uses its own code and message', async () => {
    const { faults, svc } = setup();
    faults.inject('svc', 'list', { kind: 'error', code: 'PERMANENT', message: 'disk on fire', times: 1 });
    expect(await svc.get('x')).toEqual({ id: 'x' });
    const failed = await settled(svc.list());
    expect(failed.error).toMatchObject({ code: 'PERMANENT', message: 'disk on fire', retryable: false });
    expect(await svc.list()).toEqual(['a', 'b']);
    expect(faults.callCount('svc')).toBe(3);
    expect(faults.callCount('svc', 'list')).toBe(2);
    expect(faults.callCount('other')).toBe(0);
  });

  it('refuses times that are not a positive integer', () => {
    const { faults } = setup();
    expect(() => faults.failNext('svc', 0)).toThrow(/times must be an integer ≥ 1, got 0/);
    expect(() => faults.addLatency('svc', -5)).toThrow(/latency must be a finite number/);
  });
});

describe('FaultInjector: latency on the virtual clock', () => {
  it('delays a call by exactly the latency, then calls the real method', async () => {
    const { clock, faults, real, svc } = setup();
    faults.addLatency('svc', 250);
    const call = watch(svc.get('x'));
    await clock.advance(249);
    expect(call.state()).toBe('pending');
    expect(real.calls).toBe(0);
    await clock.advance(1);
    expect(call.state()).toBe('settled');
    expect((await call.result).value).toEqual({ id: 'x' });
    expect(faults.calls[0]).toMatchObject({ at: 0, endedAt: 250, faults: ['latency'], outcome: 'ok' });
  });

  it('adds latency before an error fault: a slow failure', async () => {
    const { clock, faults, svc } = setup();
    faults.inject('svc', '*', { kind: 'latency', ms: 100, times: 1 }).failNext('svc', 1, 'TIMEOUT');
    const result = await clock.drive(settled(svc.get('x')));
    expect(result.error).toMatchObject({ code: 'TIMEOUT' });
    expect(clock.now()).toBe(100);
    expect(faults.calls[0]).toMatchObject({ faults: ['latency', 'error'], outcome: 'fault', endedAt: 100 });
    expect(await svc.get('y')).toEqual({ id: 'y' });
    expect(clock.now()).toBe(100);
  });

  it('ends a latency early with the abort reason when the call signal aborts', async () => {
    const { clock, faults } = setup();
    const real = { load: async (_input: unknown, _ctx: { signal: AbortSignal }) => 'loaded' };
    const svc = fakeService(real, 'svc', faults, clock);
    faults.addLatency('svc', 1000);
    const controller = new AbortController();
    clock.setTimeout(() => controller.abort(new TroupeError('TIMEOUT', 'too slow')), 300);
    const result = await clock.drive(settled(svc.load({}, { signal: controller.signal })));
    expect(result.error).toMatchObject({ code: 'TIMEOUT', message: 'too slow' });
    expect(clock.now()).toBe(300);
    expect(faults.calls[0]).toMatchObject({ outcome: 'cancelled', endedAt: 300, code: 'TIMEOUT' });
  });
});

describe('FaultInjector: hang', () => {
  it('never settles without a signal, and only the next call hangs', async () => {
    const { clock, faults, real, svc } = setup();
    faults.hangNext('svc', 'get');
    const hung = watch(svc.get('x'));
    await clock.advance(1_000_000);
    expect(hung.state()).toBe('pending');
    expect(real.calls).toBe(0);
    expect(faults.calls[0]).toMatchObject({ faults: ['hang'], outcome: 'pending' });
    expect(await svc.get('y')).toEqual({ id: 'y' });
  });

  it('is ended by the workflow timeout at exactly timeoutMs, and the retry succeeds', async () => {
    const clock = new VirtualClock();
    const faults = new FaultInjector({ clock });
    let made = 0;
    const services = fakeHandlers(
      {
        agents: {
          create: async () => {
            made++;
            return { id: 'ada' };
          },
        },
      },
      faults,
    );
    const runner = new WorkflowRunner({ services, clock });
    const def = workflow('w')
      .step('create', 'agents', 'create', {
        policy: { timeoutMs: 2000, retry: { maxAttempts: 2, baseDelayMs: 100 } },
      })
      .build();
    faults.hangNext('agents', 'create');
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('completed');
    expect(made).toBe(1);
    expect(faults.calls.map((c) => [c.at, c.endedAt, c.outcome, c.code])).toEqual([
      [0, 2000, 'cancelled', 'TIMEOUT'],
      [2100, 2100, 'ok', undefined],
    ]);
  });
});

describe('FaultInjector: unavailable and crash', () => {
  it('makes every call fail TRANSIENT "service unavailable" until restored', async () => {
    const { faults, real, svc } = setup();
    faults.makeUnavailable('svc');
    for (let i = 0; i < 3; i++) {
      const r = await settled<unknown>(i % 2 ? svc.list() : svc.get('x'));
      expect(r.error).toMatchObject({ code: 'TRANSIENT', retryable: true });
      expect((r.error as Error).message).toMatch(/service unavailable/);
    }
    expect(real.calls).toBe(0);
    faults.restore('svc');
    expect(await svc.get('x')).toEqual({ id: 'x' });
  });

  it('restores one service and leaves the others faulted', async () => {
    const { clock, faults, svc } = setup();
    const other = fakeService({ ping: async () => 'pong' }, 'other', faults, clock);
    faults.makeUnavailable('svc').makeUnavailable('other');
    faults.restore('svc');
    expect(await svc.get('x')).toEqual({ id: 'x' });
    expect((await settled(other.ping())).error).toMatchObject({ code: 'TRANSIENT' });
    faults.restore();
    expect(await other.ping()).toBe('pong');
  });

  it('crashes with a PERMANENT, non-retryable error marked crash: true', async () => {
    const { faults, real, svc } = setup();
    faults.inject('svc', 'get', { kind: 'crash', times: 1 });
    const r = await settled(svc.get('x'));
    expect(r.error).toMatchObject({ code: 'PERMANENT', retryable: false, context: { crash: true } });
    expect(real.calls).toBe(0);
    expect(await svc.get('x')).toEqual({ id: 'x' });
  });
});
