import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from '../orchestration/builder.js';
import { VirtualClock } from '../orchestration/clock.js';
import type { CheckpointContext } from '../orchestration/handlers.js';
import { MemoryRunLog } from '../orchestration/run-log.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { WorkflowRecorder } from './recorder.js';

/**
 * a (10 ms), then b (30 ms) and c (20 ms) in parallel, then d, which fails TRANSIENT on
 * both of its attempts (at 40 and 140): completion a@10, c@30, b@40; compensation b, c, a.
 */
function scenario() {
  const clock = new VirtualClock();
  const checkpoints: CheckpointContext[] = [];
  let n = 0;
  const runner = new WorkflowRunner({
    clock,
    runLog: new MemoryRunLog(),
    newRunId: () => `run-${++n}`,
    checkpoint: async (c) => {
      checkpoints.push(c);
      return [];
    },
    services: {
      svc: {
        work: async (input: { ms: number }, ctx) => {
          await ctx.clock.sleep(input.ms, ctx.signal);
          return { done: input.ms };
        },
        flaky: async () => {
          throw new TroupeError('TRANSIENT', 'store busy');
        },
        undo: async () => ({}),
      },
    },
  });
  const undo = { operation: 'undo' };
  const def = workflow('saga')
    .step('a', 'svc', 'work', { input: { ms: 10 }, compensate: undo })
    .step('b', 'svc', 'work', { input: { ms: 30 }, dependsOn: ['a'], compensate: undo })
    .step('c', 'svc', 'work', { input: { ms: 20 }, dependsOn: ['a'], compensate: undo })
    .step('d', 'svc', 'flaky', {
      dependsOn: ['b', 'c'],
      policy: { retry: { maxAttempts: 2, baseDelayMs: 100 } },
    })
    .build();
  const recorder = new WorkflowRecorder();
  const detach = recorder.attach(runner);
  return { clock, runner, def, recorder, detach, checkpoints };
}

describe('WorkflowRecorder', () => {
  it('records transitions, completion and compensation order of a run with a failing step', async () => {
    const { clock, runner, def, recorder } = scenario();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(recorder.runIds()).toEqual(['run-1']);
    expect(recorder.transitions()).toEqual(['pending', 'running', 'compensating', 'compensated']);
    expect(recorder.transitions('run-1')).toEqual(recorder.transitions());
    expect(recorder.completionOrder()).toEqual(['a', 'c', 'b']);
    expect(recorder.compensationOrder()).toEqual(['b', 'c', 'a']);
    expect(recorder.compensationOrder()).toEqual(result.compensated);
    expect(recorder.compensationFailures()).toEqual([]);
    expect(recorder.stateChanges().map((e) => [e.from, e.to, e.at])).toEqual([
      [null, 'pending', 0],
      ['pending', 'running', 0],
      ['running', 'compensating', 140],
      ['compensating', 'compensated', 140],
    ]);
    expect(recorder.stateAt(139)).toBe('running');
    expect(recorder.stateAt(140)).toBe('compensated');
    expect(recorder.steps(undefined, 'd').map((e) => e.kind)).toEqual([
      'start',
      'attempt',
      'attempt-failed',
      'retry-scheduled',
      'attempt',
      'attempt-failed',
      'failure',
    ]);
  });

  it('reports each attempt with its virtual start and end times and error', async () => {
    const { clock, runner, def, recorder } = scenario();
    await clock.drive(runner.run(def));
    expect(recorder.attempts('d').map((a) => [a.attempt, a.at, a.endedAt, a.outcome, a.error?.code])).toEqual(
      [
        [1, 40, 40, 'failed', 'TRANSIENT'],
        [2, 140, 140, 'failed', 'TRANSIENT'],
      ],
    );
    expect(recorder.attemptTimes('b')).toEqual([10]);
    expect(recorder.attempts('b')[0]).toMatchObject({ endedAt: 40, outcome: 'succeeded' });
  });

  it('reads checkpoints from the runner log, and keeps runs apart', async () => {
    const { clock, runner, def, recorder, detach } = scenario();
    await clock.drive(runner.run(def));
    await clock.drive(runner.run(def));
    expect(recorder.runIds()).toEqual(['run-1', 'run-2']);
    expect(recorder.lastRunId).toBe('run-2');
    expect(recorder.transitions('run-1')).toEqual(['pending', 'running', 'compensating', 'compensated']);
    expect(recorder.stateChanges().map((e) => e.at)).toEqual([140, 140, 280, 280]);
    expect(recorder.attemptTimes('a', 'run-1')).toEqual([0]);
    expect(recorder.attemptTimes('a')).toEqual([140]);
    const checkpoints = await recorder.checkpoints('run-1');
    expect(checkpoints.map((c) => [c.phase, c.stepId, c.at])).toEqual([
      ['step', 'a', 10],
      ['step', 'c', 30],
      ['step', 'b', 40],
      ['failure', undefined, 140],
    ]);
    detach();
    await clock.drive(runner.run(def));
    expect(recorder.runIds()).toEqual(['run-1', 'run-2']);
    recorder.clear();
    expect(recorder.transitions()).toEqual([]);
    expect(await recorder.checkpoints()).toEqual([]);
  });
});
