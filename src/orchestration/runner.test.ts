import { describe, expect, it } from 'vitest';
import { type Issue, isTroupeError, TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import type { StateChangeEvent, StepEvent } from './events.js';
import type { CheckpointContext, ServiceHandlers } from './handlers.js';
import { stepOutput, workflowInput } from './refs.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

function setup(
  services: ServiceHandlers,
  extra: Partial<ConstructorParameters<typeof WorkflowRunner>[0]> = {},
) {
  const clock = new VirtualClock();
  const runLog = new MemoryRunLog();
  let n = 0;
  const runner = new WorkflowRunner({ services, clock, runLog, newRunId: () => `run-${++n}`, ...extra });
  return { clock, runLog, runner };
}

describe('WorkflowRunner: retry through the engine', () => {
  it('retries a transient failure after 100 then 200 ms (attempts at 0, 100, 300)', async () => {
    const at: number[] = [];
    const { clock, runner } = setup({
      agents: {
        create: async (_input, ctx) => {
          at.push(clock.now());
          if (ctx.attempt < 3) throw new TroupeError('TRANSIENT', 'store busy');
          return { id: 'ada' };
        },
      },
    });
    const def = workflow('w')
      .step('create', 'agents', 'create', {
        policy: { retry: { maxAttempts: 3, baseDelayMs: 100, multiplier: 2 } },
      })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('completed');
    expect(result.outputs).toEqual({ create: { id: 'ada' } });
    expect(at).toEqual([0, 100, 300]);
  });

  it('does not retry a permanent error: one attempt, then the run fails with context', async () => {
    let calls = 0;
    const { clock, runner } = setup({
      agents: {
        create: async () => {
          calls++;
          throw new TroupeError('PERMANENT', 'role "ghost" does not exist', {
            cause: new Error('lookup failed'),
          });
        },
      },
    });
    const def = workflow('w')
      .step('create', 'agents', 'create', { policy: { retry: { maxAttempts: 5, baseDelayMs: 100 } } })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(calls).toBe(1);
    expect(result.status).toBe('compensated');
    expect(result.error).toMatchObject({
      code: 'PERMANENT',
      message: 'role "ghost" does not exist',
      context: {
        workflowId: 'w',
        runId: 'run-1',
        stepId: 'create',
        service: 'agents',
        operation: 'create',
        attempt: 1,
      },
      cause: { message: 'lookup failed' },
    });
  });

  it('takes service policies from the runner when the step sets none', async () => {
    let calls = 0;
    const { clock, runner } = setup(
      {
        flaky: {
          op: async () => {
            if (++calls < 2) throw new TroupeError('TRANSIENT', 'again');
            return 'ok';
          },
        },
      },
      { servicePolicies: { flaky: { retry: { maxAttempts: 2, baseDelayMs: 10, multiplier: 2 } } } },
    );
    const result = await clock.drive(runner.run(workflow('w').step('a', 'flaky', 'op').build()));
    expect([result.status, calls, clock.now()]).toEqual(['completed', 2, 10]);
  });
});

describe('WorkflowRunner: scheduling', () => {
  it('runs independent steps in parallel up to maxParallel, in definition order', async () => {
    let running = 0;
    let maxSeen = 0;
    const started: string[] = [];
    const { clock, runner } = setup({
      checks: {
        check: async (input: { id: string; ms: number }) => {
          started.push(`${input.id}@${clock.now()}`);
          running++;
          maxSeen = Math.max(maxSeen, running);
          await clock.sleep(input.ms);
          running--;
          return input.id;
        },
      },
    });
    const b = workflow('batch').maxParallel(3);
    const ms = [100, 50, 300, 100, 100, 10];
    ms.forEach((m, i) => {
      b.step(`c${i}`, 'checks', 'check', { input: { id: `c${i}`, ms: m } });
    });
    b.step('sync', 'checks', 'check', { dependsOn: ms.map((_, i) => `c${i}`), input: { id: 'sync', ms: 1 } });
    const result = await clock.drive(runner.run(b.build()));
    expect(result.status).toBe('completed');
    expect(maxSeen).toBe(3);
    // c3 takes c1's slot at 50, c4 and c5 follow as slots free up; sync waits for all.
    expect(started).toEqual(['c0@0', 'c1@0', 'c2@0', 'c3@50', 'c4@100', 'c5@150', 'sync@300']);
  });

  it('resolves refs to upstream outputs and to the workflow input before the call', async () => {
    const seen: unknown[] = [];
    const { clock, runner } = setup({
      personalities: {
        get: async (input: { id: string }) => ({ id: input.id, version: 7, traits: { humor: 80 } }),
      },
      agents: {
        create: async (input) => {
          seen.push(input);
          return { agentId: 'a-1' };
        },
      },
    });
    const def = workflow('create-agent')
      .step('personality', 'personalities', 'get', { input: { id: workflowInput('personalityId') } })
      .step('agent', 'agents', 'create', {
        dependsOn: ['personality'],
        input: {
          name: workflowInput('name'),
          personality: { id: stepOutput('personality', 'id'), version: stepOutput('personality', 'version') },
          humor: stepOutput('personality', 'traits.humor'),
        },
      })
      .build();
    const result = await clock.drive(runner.run(def, { personalityId: 'calm', name: 'Ada' }));
    expect(result.status).toBe('completed');
    expect(seen).toEqual([{ name: 'Ada', personality: { id: 'calm', version: 7 }, humor: 80 }]);
  });

  it('fails the step (not the call to run) when a ref cannot be resolved', async () => {
    const { clock, runner } = setup({ s: { a: async () => ({}), b: async () => 'never' } });
    const def = workflow('w')
      .step('a', 's', 'a')
      .step('b', 's', 'b', { dependsOn: ['a'], input: stepOutput('a', 'missing') })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(result.error).toMatchObject({ code: 'VALIDATION_FAILED', context: { stepId: 'b' } });
    expect(result.error?.message).toContain('has no field "missing"');
  });

  it('throws VALIDATION_FAILED naming service.operation when a handler is missing', async () => {
    const { runner } = setup({ agents: { create: async () => 1 } });
    const def = workflow('w')
      .step('a', 'agents', 'create', { compensate: { operation: 'remove' } })
      .step('b', 'files', 'write')
      .build();
    const error = await runner.run(def).catch((e: unknown) => e);
    expect(isTroupeError(error) && error.code).toBe('VALIDATION_FAILED');
    expect((error as TroupeError).issues).toEqual([
      {
        path: 'steps.0.compensate.operation',
        message:
          'no handler for "agents.remove"; did you mean "agents.create"? (service "agents" has create)',
      },
      { path: 'steps.1.operation', message: 'no handler for "files.write" (services are agents)' },
    ]);
  });

  it('throws VALIDATION_FAILED for an invalid definition', async () => {
    const { runner } = setup({});
    await expect(
      runner.run({ id: 'w', steps: [{ id: 'a', service: 's', operation: 'o', dependsOn: ['b'] }] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('refuses an input nested past what the run log can write down, recording nothing', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = { d: [deep] }; // would overflow JSON.stringify's stack
    const { runner, runLog } = setup({ s: { o: async () => 'ran' } });
    const e = await runner
      .run(workflow('w').step('a', 's', 'o').build(), { patch: deep })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: '(input)' }] });
    expect((e as Error).message).toBe(
      'the input of workflow "w" is nested more than 256 levels deep: nothing was run',
    );
    expect(await runLog.list()).toEqual([]);
    // As deep as allowed is run.
    let ok: unknown = 1;
    for (let i = 0; i < 255; i++) ok = [ok];
    expect((await runner.run(workflow('w').step('a', 's', 'o').build(), ok)).status).toBe('completed');
  });
});

describe('WorkflowRunner: events, checkpoints, cancellation', () => {
  it('emits state changes and step events with attempts, delays and durations', async () => {
    const { clock, runner } = setup({
      s: {
        op: async (_i, ctx) => {
          await ctx.clock.sleep(20);
          if (ctx.attempt === 1) throw new TroupeError('TIMEOUT', 'slow');
          return 'ok';
        },
      },
    });
    const states: StateChangeEvent[] = [];
    const steps: StepEvent[] = [];
    runner.on('stateChange', (e) => states.push(e));
    const off = runner.on('step', (e) => steps.push(e));
    const def = workflow('w')
      .step('a', 's', 'op', { policy: { retry: { maxAttempts: 2, baseDelayMs: 100 } } })
      .build();
    await clock.drive(runner.run(def));
    expect(states.map((s) => [s.from, s.to, s.at])).toEqual([
      [null, 'pending', 0],
      ['pending', 'running', 0],
      ['running', 'completed', 140],
    ]);
    expect(steps.map((s) => [s.kind, s.attempt, s.at, s.durationMs ?? null, s.delayMs ?? null])).toEqual([
      ['start', 1, 0, null, null],
      ['attempt', 1, 0, null, null],
      ['attempt-failed', 1, 20, 20, null],
      ['retry-scheduled', 2, 20, null, 100],
      ['attempt', 2, 120, null, null],
      ['success', 2, 140, 140, null],
    ]);
    expect(steps[2]?.error).toMatchObject({ code: 'TIMEOUT', context: { stepId: 'a', attempt: 1 } });
    off();
    await clock.drive(runner.run(def));
    expect(steps).toHaveLength(6);
  });

  it('checkpoints after each step, on failure and on completion; issues fail the step and compensate it', async () => {
    const phases: string[] = [];
    const undone: string[] = [];
    const checkpoint = async (c: CheckpointContext): Promise<Issue[]> => {
      phases.push(`${c.phase}:${c.stepId ?? '-'}:${Object.keys(c.outputs).join(',')}`);
      if (c.stepId === 'b') return [{ entity: 'agent', path: 'agents/ada.json', message: 'orphaned agent' }];
      return [];
    };
    const { clock, runner, runLog } = setup(
      {
        s: {
          make: async (input: string) => input,
          undo: async (input: { output: string }) => {
            undone.push(input.output);
          },
        },
      },
      { checkpoint },
    );
    const def = workflow('w')
      .step('a', 's', 'make', { input: 'A', compensate: { operation: 'undo' } })
      .step('b', 's', 'make', { input: 'B', dependsOn: ['a'], compensate: { operation: 'undo' } })
      .step('c', 's', 'make', { input: 'C', dependsOn: ['b'] })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(phases).toEqual(['step:a:a', 'step:b:a,b', 'failure:-:a,b']);
    expect(result.status).toBe('compensated');
    expect(result.error).toMatchObject({ code: 'VALIDATION_FAILED', context: { stepId: 'b' } });
    expect(result.error?.issues).toEqual([
      { entity: 'agent', path: 'agents/ada.json', message: 'orphaned agent' },
    ]);
    expect(undone).toEqual(['B', 'A']);
    expect(result.checkpointIssues).toEqual([
      {
        phase: 'step',
        stepId: 'b',
        issues: [{ entity: 'agent', path: 'agents/ada.json', message: 'orphaned agent' }],
      },
    ]);
    const record = await runLog.read(result.runId);
    expect(record?.checkpoints.map((c) => [c.phase, c.stepId ?? null, c.issues.length])).toEqual([
      ['step', 'a', 0],
      ['step', 'b', 1],
      ['failure', null, 0],
    ]);

    phases.length = 0;
    const ok = workflow('ok').step('a', 's', 'make', { input: 'A' }).build();
    expect((await clock.drive(runner.run(ok))).status).toBe('completed');
    expect(phases).toEqual(['step:a:a', 'completion:-:a']);
  });

  it('leaves the checkpoint after a step to the later step it names in checkedBy', async () => {
    const phases: string[] = [];
    const checkpoint = async (c: CheckpointContext): Promise<Issue[]> => {
      phases.push(`${c.phase}:${c.stepId ?? '-'}`);
      return [];
    };
    const { clock, runner } = setup({ s: { make: async (input: string) => input } }, { checkpoint });
    const def = workflow('w')
      .step('write', 's', 'make', { input: 'A', checkedBy: 'verify' })
      .step('verify', 's', 'make', { input: 'V', dependsOn: ['write'] })
      .build();
    expect((await clock.drive(runner.run(def))).status).toBe('completed');
    expect(phases).toEqual(['step:verify', 'completion:-']);
  });

  it('a cancelled run aborts its handlers and still compensates', async () => {
    const undone: string[] = [];
    let aborted: unknown;
    const { clock, runner } = setup({
      s: {
        quick: async () => 'done',
        slow: async (_i, ctx) => {
          try {
            await ctx.clock.sleep(10_000, ctx.signal);
          } catch (e) {
            aborted = e;
            throw e;
          }
        },
        undo: async () => {
          undone.push('quick');
        },
      },
    });
    const controller = new AbortController();
    const def = workflow('w')
      .step('q', 's', 'quick', { compensate: { operation: 'undo' } })
      .step('s', 's', 'slow', { dependsOn: ['q'] })
      .build();
    const pending = runner.run(def, undefined, { signal: controller.signal });
    await clock.advance(500);
    controller.abort();
    const result = await clock.drive(pending);
    expect(isTroupeError(aborted) && aborted.code).toBe('CANCELLED');
    expect(result.status).toBe('compensated');
    expect(result.error?.code).toBe('CANCELLED');
    expect(undone).toEqual(['quick']);
  });
});
