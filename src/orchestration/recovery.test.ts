import { describe, expect, it } from 'vitest';
import { concurrentModification, TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import type { StepContext } from './handlers.js';
import { stepOutput } from './refs.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

describe("recovery 'resolve-conflict-and-retry'", () => {
  function setup(conflicts: number, recovery: boolean) {
    const clock = new VirtualClock();
    const attempts: Array<[number, number, string | undefined]> = [];
    let revision = 4;
    const runner = new WorkflowRunner({
      clock,
      services: {
        personalities: {
          update: async (_input, ctx) => {
            attempts.push([ctx.attempt, clock.now(), ctx.previousError?.code]);
            if (attempts.length <= conflicts)
              throw concurrentModification('personality', 'calm', revision, ++revision);
            return { revision: revision + 1 };
          },
        },
      },
    });
    const def = workflow('complex-update')
      .step('update', 'personalities', 'update', recovery ? { recovery: 'resolve-conflict-and-retry' } : {})
      .build();
    return { clock, runner, def, attempts };
  }

  it('re-runs the step at once on CONCURRENT_MODIFICATION, telling it the conflict, and completes', async () => {
    const { clock, runner, def, attempts } = setup(2, true);
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('completed');
    expect(result.outputs.update).toEqual({ revision: 7 });
    expect(attempts).toEqual([
      [1, 0, undefined],
      [2, 0, 'CONCURRENT_MODIFICATION'],
      [3, 0, 'CONCURRENT_MODIFICATION'],
    ]);
  });

  it('gives up after 3 runs by default', async () => {
    const { clock, runner, def, attempts } = setup(10, true);
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(result.error).toMatchObject({ code: 'CONCURRENT_MODIFICATION', context: { attempt: 3 } });
    expect(attempts).toHaveLength(3);
  });

  it('without the recovery (and no retry policy) a conflict fails the run', async () => {
    const { clock, runner, def, attempts } = setup(1, false);
    const result = await clock.drive(runner.run(def));
    expect(result.error?.code).toBe('CONCURRENT_MODIFICATION');
    expect(attempts).toHaveLength(1);
  });
});

describe("recovery 'fallback-sequential'", () => {
  /** Three checks in parallel (max 3) that are too slow under load, then one sync step. */
  function setup(recovery: boolean) {
    const clock = new VirtualClock();
    const log: string[] = [];
    let running = 0;
    let peakAfterSwitch = 0;
    let switched = false;
    const check = async (input: { id: string }, ctx: StepContext) => {
      running++;
      if (switched) peakAfterSwitch = Math.max(peakAfterSwitch, running);
      log.push(`${input.id}#${ctx.attempt}@${clock.now()}`);
      try {
        // Overloaded while everything runs at once; fast alone.
        await ctx.clock.sleep(ctx.attempt === 1 ? 5_000 : 400, ctx.signal);
      } finally {
        running--;
      }
      return input.id;
    };
    const runner = new WorkflowRunner({ clock, services: { checks: { check, sync: async () => 'synced' } } });
    runner.on('step', (e) => {
      if (e.kind === 'requeued') switched = true;
    });
    const opts = (id: string) => ({
      input: { id },
      policy: { timeoutMs: 1_000 },
      ...(recovery ? { recovery: 'fallback-sequential' as const } : {}),
    });
    const def = workflow('parallel-coordination')
      .maxParallel(3)
      .step('personalities', 'checks', 'check', opts('personalities'))
      .step('roles', 'checks', 'check', opts('roles'))
      .step('models', 'checks', 'check', opts('models'))
      .step('sync', 'checks', 'sync', { dependsOn: ['personalities', 'roles', 'models'] })
      .build();
    return { clock, runner, def, log, peak: () => peakAfterSwitch };
  }

  it('after parallel timeouts re-runs the timed-out steps one at a time, then continues', async () => {
    const { clock, runner, def, log, peak } = setup(true);
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('completed');
    expect(log).toEqual([
      'personalities#1@0',
      'roles#1@0',
      'models#1@0',
      'personalities#2@1000',
      'roles#2@1400',
      'models#2@1800',
    ]);
    expect(peak()).toBe(1);
    expect(result.outputs).toEqual({
      personalities: 'personalities',
      roles: 'roles',
      models: 'models',
      sync: 'synced',
    });
    expect(clock.now()).toBe(2_200);
  });

  it('without the recovery the parallel timeout fails the run', async () => {
    const { clock, runner, def } = setup(false);
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(result.error?.code).toBe('TIMEOUT');
  });

  it('a step that times out while running alone is not re-run', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const runner = new WorkflowRunner({
      clock,
      services: {
        s: {
          slow: async (_i, ctx) => {
            calls++;
            await ctx.clock.sleep(5_000, ctx.signal);
          },
        },
      },
    });
    const def = workflow('w')
      .step('only', 's', 'slow', { policy: { timeoutMs: 100 }, recovery: 'fallback-sequential' })
      .build();
    expect((await clock.drive(runner.run(def))).error?.code).toBe('TIMEOUT');
    expect(calls).toBe(1);
  });
});

describe("recovery 'defer' and resume", () => {
  function setup(runLog = new MemoryRunLog()) {
    const clock = new VirtualClock();
    const state = { modelsUp: false, calls: [] as string[] };
    const services = {
      personalities: { update: async () => ({ version: 2 }) },
      models: {
        validate: async () => {
          state.calls.push(`models.validate@${clock.now()}`);
          if (!state.modelsUp) throw new TroupeError('TRANSIENT', 'model catalog unavailable');
          return { model: 'gpt-4o' };
        },
      },
      agents: {
        sync: async (input: unknown) => {
          state.calls.push(`agents.sync ${JSON.stringify(input)}`);
          return 'synced';
        },
      },
      files: { write: async () => 'written' },
    };
    const def = workflow('partial')
      .step('personality', 'personalities', 'update')
      .step('model', 'models', 'validate', {
        recovery: 'defer',
        policy: {
          retry: { maxAttempts: 2, baseDelayMs: 100 },
          circuitBreaker: { failureThreshold: 5, recoveryMs: 5_000 },
        },
      })
      .step('sync', 'agents', 'sync', {
        dependsOn: ['personality', 'model'],
        input: { version: stepOutput('personality', 'version'), model: stepOutput('model', 'model') },
      })
      .step('file', 'files', 'write', { dependsOn: ['personality'] })
      .build();
    const runner = () => new WorkflowRunner({ clock, services, runLog });
    return { clock, state, def, runner, runLog };
  }

  it('defers the failing step and its dependents, completes the others, ends partially-completed', async () => {
    const { clock, state, def, runner, runLog } = setup();
    const r = runner();
    const result = await clock.drive(r.run(def));
    expect(result.status).toBe('partially-completed');
    expect(Object.keys(result.outputs).sort()).toEqual(['file', 'personality']);
    expect(result.deferred).toHaveLength(1);
    expect(result.deferred[0]).toMatchObject({
      stepId: 'model',
      retryAt: 100 + 5_000,
      error: { code: 'TRANSIENT' },
    });
    expect(result.compensated).toEqual([]);
    expect(state.calls).toEqual(['models.validate@0', 'models.validate@100']);
    const record = await runLog.read(result.runId);
    expect(record?.state).toBe('partially-completed');
    expect(record?.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['personality', 'succeeded'],
      ['model', 'deferred'],
      ['sync', 'skipped'],
      ['file', 'succeeded'],
    ]);

    state.modelsUp = true;
    await clock.advance(5_000);
    const resumed = await clock.drive(r.resume(result.runId));
    expect(resumed.status).toBe('completed');
    expect(resumed.deferred).toEqual([]);
    expect(resumed.outputs).toEqual({
      personality: { version: 2 },
      file: 'written',
      model: { model: 'gpt-4o' },
      sync: 'synced',
    });
    expect(state.calls.slice(2)).toEqual([
      'models.validate@5100',
      'agents.sync {"version":2,"model":"gpt-4o"}',
    ]);
    expect((await runLog.read(result.runId))?.states.map((s) => s.state)).toEqual([
      'pending',
      'running',
      'partially-completed',
      'running',
      'completed',
    ]);
    await expect(r.resume(result.runId)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('a resume or cancel of a run another runner holds is refused as busy (LOCK_FAILED), not as invalid', async () => {
    const { clock, def, runner, runLog } = setup();
    const result = await clock.drive(runner().run(def));
    expect(result.status).toBe('partially-completed');
    const held = await runLog.claim(result.runId, {});
    expect(held).toBeDefined();
    for (const call of [() => runner().resume(result.runId), () => runner().cancel(result.runId)])
      await expect(clock.drive(call())).rejects.toMatchObject({
        code: 'LOCK_FAILED',
        message: `run "${result.runId}" is being run by another runner: try again once it is done`,
      });
  });

  it('a new runner resumes from the log alone, using recorded outputs', async () => {
    const { clock, state, def, runner } = setup();
    const first = await clock.drive(runner().run(def));
    state.modelsUp = true;
    const resumed = await clock.drive(runner().resume(first.runId));
    expect(resumed.status).toBe('completed');
    expect(state.calls.at(-1)).toBe('agents.sync {"version":2,"model":"gpt-4o"}');
    await expect(runner().resume('no-such-run')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('cancel undoes the completed steps of a run whose deferred step can never succeed, from the log alone', async () => {
    const { clock, def, runner, runLog } = setup();
    const undone: string[] = [];
    const withUndo = workflow('partial-undo')
      .step('personality', 'personalities', 'update', { compensate: { operation: 'revert' } })
      .step('model', 'models', 'validate', { ...def.steps[1]!, dependsOn: [] })
      .build();
    const services = {
      personalities: {
        update: async () => ({ version: 2 }),
        revert: async (i: { output: unknown }) => {
          undone.push(`personality ${JSON.stringify(i.output)}`);
        },
      },
      models: {
        validate: async () => Promise.reject(new TroupeError('TRANSIENT', 'model catalog unavailable')),
      },
    };
    const first = await clock.drive(new WorkflowRunner({ clock, services, runLog }).run(withUndo));
    expect(first.status).toBe('partially-completed');
    // A new process: only the log knows the run.
    const cancelled = await clock.drive(new WorkflowRunner({ clock, services, runLog }).cancel(first.runId));
    expect(cancelled.status).toBe('compensated');
    expect(cancelled.compensated).toEqual(['personality']);
    expect(undone).toEqual(['personality {"version":2}']);
    expect(cancelled.error).toMatchObject({ context: { cancelled: true, notRun: ['model'] } });
    expect((await runLog.read(first.runId))?.state).toBe('compensated');
    // Once cancelled, neither resume nor cancel applies again.
    await expect(runner().cancel(first.runId)).rejects.toThrow(
      /is compensated; only a partially-completed run can be cancelled/,
    );
    await expect(runner().resume(first.runId)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('a permanent failure is not deferred', async () => {
    const clock = new VirtualClock();
    const runner = new WorkflowRunner({
      clock,
      services: {
        s: {
          bad: async () => {
            throw new TroupeError('VALIDATION_FAILED', 'unknown model "gpt-5o"; did you mean "gpt-4o"?');
          },
        },
      },
    });
    const def = workflow('w').step('a', 's', 'bad', { recovery: 'defer' }).build();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(result.deferred).toEqual([]);
  });
});
