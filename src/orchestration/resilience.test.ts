import { describe, expect, it } from 'vitest';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import type { StepEvent } from './events.js';
import type { StepContext } from './handlers.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

describe('circuit breaker in the runner (threshold 3, timeout 2000 ms, recovery 5000 ms)', () => {
  function scenario(withFallback: boolean) {
    const clock = new VirtualClock();
    const calls: number[] = [];
    let healthy = false;
    const services = {
      comm: {
        send: async (_input: unknown, ctx: StepContext) => {
          calls.push(clock.now());
          if (healthy) return { delivered: true };
          await ctx.clock.sleep(60_000, ctx.signal); // hangs until the timeout aborts it
          return { delivered: true };
        },
        queue: async (input: { to: string }) => ({ queued: input.to }),
      },
    };
    const runLog = new MemoryRunLog();
    const runner = new WorkflowRunner({ services, clock, runLog });
    const def = workflow('message')
      .step('send', 'comm', 'send', {
        input: { to: 'ada' },
        policy: { timeoutMs: 2_000, circuitBreaker: { failureThreshold: 3, recoveryMs: 5_000 } },
        ...(withFallback ? { fallback: { operation: 'queue' } } : {}),
      })
      .build();
    return {
      clock,
      calls,
      runner,
      runLog,
      def,
      recover: () => {
        healthy = true;
      },
    };
  }

  it('opens after the 3rd timeout; the 4th call fails fast with CIRCUIT_OPEN at 6000 without calling the service', async () => {
    const { clock, calls, runner, def } = scenario(false);
    const ended: Array<[string, number, string | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      const r = await clock.drive(runner.run(def));
      ended.push([r.status, clock.now(), r.error?.code]);
      expect(runner.circuitState('comm')).toBe(i < 2 ? 'closed' : 'open');
    }
    expect(ended).toEqual([
      ['compensated', 2_000, 'TIMEOUT'],
      ['compensated', 4_000, 'TIMEOUT'],
      ['compensated', 6_000, 'TIMEOUT'],
    ]);
    const fourth = await clock.drive(runner.run(def));
    expect(clock.now()).toBe(6_000);
    expect(fourth.error).toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryable: false,
      context: { retryAt: 11_000 },
    });
    expect(calls).toEqual([0, 2_000, 4_000]);
  });

  it('uses the fallback while open, then lets a probe through at +5000 that closes the circuit', async () => {
    const { clock, calls, runner, runLog, def, recover } = scenario(true);
    for (let i = 0; i < 3; i++) await clock.drive(runner.run(def));
    const steps: StepEvent[] = [];
    runner.on('step', (e) => steps.push(e));
    const fourth = await clock.drive(runner.run(def));
    expect(fourth.status).toBe('completed');
    expect(fourth.outputs).toEqual({ send: { queued: 'ada' } });
    expect(clock.now()).toBe(6_000);
    expect(calls).toHaveLength(3);
    expect(steps.map((s) => s.kind)).toEqual(['start', 'fallback', 'success']);
    expect(steps[2]?.viaFallback).toBe(true);

    recover();
    await clock.advance(4_999);
    expect(runner.circuitState('comm')).toBe('open');
    await clock.advance(1);
    expect(runner.circuitState('comm')).toBe('half-open');
    const probe = await clock.drive(runner.run(def));
    expect(probe.outputs).toEqual({ send: { delivered: true } });
    expect(calls).toEqual([0, 2_000, 4_000, 11_000]);
    expect(runner.circuitState('comm')).toBe('closed');
    const record = await runLog.read(probe.runId);
    expect(record?.steps[0]?.circuit).toEqual([{ at: 11_000, state: 'closed' }]);
  });

  it('a constant fallback value stands in while open', async () => {
    const clock = new VirtualClock();
    const runner = new WorkflowRunner({
      clock,
      services: {
        models: {
          list: async () => {
            throw new TroupeError('TRANSIENT', 'catalog down');
          },
        },
      },
    });
    const def = workflow('w')
      .step('models', 'models', 'list', {
        policy: { circuitBreaker: { failureThreshold: 1, recoveryMs: 1_000 } },
        fallback: { value: ['gpt-4o'] },
      })
      .build();
    expect((await clock.drive(runner.run(def))).error?.code).toBe('TRANSIENT');
    const second = await clock.drive(runner.run(def));
    expect([second.status, second.outputs.models]).toEqual(['completed', ['gpt-4o']]);
  });

  it('a step completed by its fallback is not compensated (nothing happened in the service)', async () => {
    const clock = new VirtualClock();
    const undone: string[] = [];
    const runner = new WorkflowRunner({
      clock,
      services: {
        models: {
          list: async () => {
            throw new TroupeError('TRANSIENT', 'catalog down');
          },
          forget: async () => {
            undone.push('models');
          },
        },
        agents: {
          create: async () => 'ada',
          remove: async () => {
            undone.push('agents');
          },
          fail: async () => {
            throw new TroupeError('PERMANENT', 'no');
          },
        },
      },
    });
    const def = workflow('w')
      .step('agent', 'agents', 'create', { compensate: { operation: 'remove' } })
      .step('models', 'models', 'list', {
        dependsOn: ['agent'],
        policy: { circuitBreaker: { failureThreshold: 1, recoveryMs: 1_000 } },
        fallback: { value: [] },
        compensate: { operation: 'forget' },
      })
      .step('boom', 'agents', 'fail', { dependsOn: ['models'] })
      .build();
    await clock.drive(runner.run(def)); // opens the circuit
    const result = await clock.drive(runner.run(def));
    expect(result.outputs.models).toEqual([]);
    expect(result.compensated).toEqual(['agent']);
    expect(undone).toEqual(['agents', 'agents']);
  });
});

describe('circuit breaker half-open probe (threshold 2, recovery 3000 ms)', () => {
  it('opens after 2 failures, fails fast until +3000, then the probe succeeds and closes it', async () => {
    const clock = new VirtualClock();
    let down = true;
    const calls: number[] = [];
    const runner = new WorkflowRunner({
      clock,
      services: {
        roles: {
          check: async () => {
            calls.push(clock.now());
            if (down) throw new TroupeError('TRANSIENT', 'unavailable');
            return 'ok';
          },
        },
      },
      servicePolicies: { roles: { circuitBreaker: { failureThreshold: 2, recoveryMs: 3_000 } } },
    });
    const circuit: string[] = [];
    runner.on('step', (e) => {
      if (e.kind === 'circuit') circuit.push(`${e.circuit}@${e.at}`);
    });
    const def = workflow('w').step('check', 'roles', 'check').build();
    await clock.drive(runner.run(def));
    await clock.advance(100);
    await clock.drive(runner.run(def));
    expect(runner.circuitState('roles')).toBe('open');
    await clock.advance(2_999); // 3099: one ms before the recovery window ends
    expect((await clock.drive(runner.run(def))).error?.code).toBe('CIRCUIT_OPEN');
    expect(calls).toEqual([0, 100]);
    down = false;
    await clock.advance(1);
    expect(runner.circuitState('roles')).toBe('half-open');
    const probe = await clock.drive(runner.run(def));
    expect(probe.status).toBe('completed');
    expect(calls).toEqual([0, 100, 3_100]);
    expect(runner.circuitState('roles')).toBe('closed');
    expect(circuit).toEqual(['open@100', 'closed@3100']);
  });
});

describe('bulkheads (critical pool 10, non-critical pool 5)', () => {
  it('flooding the non-critical pool leaves critical calls unaffected; overflow is BULKHEAD_FULL', async () => {
    const clock = new VirtualClock();
    const active = { critical: 0, report: 0 };
    const peak = { critical: 0, report: 0 };
    const track = (pool: 'critical' | 'report', ms: number) => async (_input: unknown, ctx: StepContext) => {
      active[pool]++;
      peak[pool] = Math.max(peak[pool], active[pool]);
      await ctx.clock.sleep(ms);
      active[pool]--;
      return clock.now();
    };
    const runner = new WorkflowRunner({
      clock,
      services: { agents: { sync: track('critical', 50) }, analytics: { report: track('report', 1_000) } },
      bulkheads: {
        critical: { maxConcurrent: 10, maxQueue: 10 },
        'non-critical': { maxConcurrent: 5, maxQueue: 5 },
      },
      servicePolicies: { agents: { bulkhead: 'critical' }, analytics: { bulkhead: 'non-critical' } },
    });
    const report = workflow('report').step('report', 'analytics', 'report').build();
    const sync = workflow('sync').step('sync', 'agents', 'sync').build();
    const flood = Array.from({ length: 20 }, () => runner.run(report));
    const critical = Array.from({ length: 10 }, () => runner.run(sync));
    const [reports, syncs] = await clock.drive(Promise.all([Promise.all(flood), Promise.all(critical)]));

    expect(syncs.every((r) => r.status === 'completed' && r.outputs.sync === 50)).toBe(true);
    expect(peak).toEqual({ critical: 10, report: 5 });
    const finishedAt = reports.filter((r) => r.status === 'completed').map((r) => r.outputs.report);
    expect(finishedAt).toEqual([1_000, 1_000, 1_000, 1_000, 1_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
    const rejected = reports.filter((r) => r.status !== 'completed');
    expect(rejected).toHaveLength(10);
    expect(rejected.every((r) => r.error?.code === 'BULKHEAD_FULL')).toBe(true);
    expect(rejected[0]?.error?.message).toBe(
      'bulkhead "non-critical" is full: 5 running (max 5), 5 queued (max 5)',
    );
  });

  it('refuses to run a step naming a pool that is not configured', async () => {
    const runner = new WorkflowRunner({
      services: { s: { o: async () => 1 } },
      bulkheads: { critical: { maxConcurrent: 1, maxQueue: 0 } },
    });
    const def = workflow('w')
      .step('a', 's', 'o', { policy: { bulkhead: 'gpu' } })
      .build();
    await expect(runner.run(def)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: 'steps.0.policy.bulkhead', message: 'unknown bulkhead "gpu"; configured: critical' }],
    });
  });
});

describe('timeouts in the runner', () => {
  it('aborts the handler signal with TIMEOUT at the deadline and retries the timeout', async () => {
    const clock = new VirtualClock();
    const aborts: Array<[number, number, string | false]> = [];
    const runner = new WorkflowRunner({
      clock,
      services: {
        files: {
          write: async (_input, ctx) => {
            ctx.signal.addEventListener('abort', () =>
              aborts.push([
                ctx.attempt,
                clock.now(),
                isTroupeError(ctx.signal.reason) && ctx.signal.reason.code,
              ]),
            );
            if (ctx.attempt === 1) await ctx.clock.sleep(5_000, ctx.signal);
            return 'written';
          },
        },
      },
    });
    const def = workflow('w')
      .step('write', 'files', 'write', {
        policy: { timeoutMs: 2_000, retry: { maxAttempts: 2, baseDelayMs: 100 } },
      })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('completed');
    expect(aborts).toEqual([[1, 2_000, 'TIMEOUT']]);
    expect(clock.now()).toBe(2_100);
  });
});
