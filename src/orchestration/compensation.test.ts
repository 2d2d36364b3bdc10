import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import type { ServiceHandlers } from './handlers.js';
import { stepOutput } from './refs.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

function setup(services: ServiceHandlers) {
  const clock = new VirtualClock();
  const runLog = new MemoryRunLog();
  const runner = new WorkflowRunner({ services, clock, runLog });
  return { clock, runLog, runner };
}

/** a, then b/c/d in parallel finishing c (100), d (200), b (300); e needs all three and fails. */
function sagaSetup(opts: { failUndoOf?: string; undoFailure?: 'TRANSIENT' | 'PERMANENT' } = {}) {
  const undone: string[] = [];
  const undoInputs: Record<string, unknown> = {};
  const services: ServiceHandlers = {
    svc: {
      work: async (input: { id: string; ms: number }, ctx) => {
        await ctx.clock.sleep(input.ms);
        return { made: input.id };
      },
      fail: async () => {
        throw new TroupeError('PERMANENT', 'persist failed');
      },
      undo: async (input: { input: { id: string }; output: unknown }) => {
        if (input.input.id === opts.failUndoOf)
          throw new TroupeError(opts.undoFailure ?? 'PERMANENT', `cannot release ${input.input.id}`);
        undone.push(input.input.id);
        undoInputs[input.input.id] = input;
      },
    },
  };
  const work = (id: string, ms: number, dependsOn: string[] = [], compensate = true) => ({
    input: { id, ms },
    dependsOn,
    ...(compensate ? { compensate: { operation: 'undo' } } : {}),
  });
  const def = workflow('saga')
    .step('a', 'svc', 'work', work('a', 10))
    .step('b', 'svc', 'work', work('b', 300, ['a']))
    .step('c', 'svc', 'work', work('c', 100, ['a']))
    .step('d', 'svc', 'work', work('d', 200, ['a']))
    .step('x', 'svc', 'work', work('x', 5, ['a'], false))
    .step('e', 'svc', 'fail', { dependsOn: ['b', 'c', 'd', 'x'] })
    .build();
  return { ...setup(services), def, undone, undoInputs };
}

describe('WorkflowRunner: compensation', () => {
  it('compensates completed steps in reverse completion order, skipping steps without compensate', async () => {
    const { clock, runner, runLog, def, undone, undoInputs } = sagaSetup();
    const result = await clock.drive(runner.run(def));
    // Completion order: a (10), x (15), c (110), d (210), b (310).
    expect(undone).toEqual(['b', 'd', 'c', 'a']);
    expect(result.compensated).toEqual(['b', 'd', 'c', 'a']);
    expect(result.status).toBe('compensated');
    expect(result.error).toMatchObject({ code: 'PERMANENT', context: { stepId: 'e' } });
    expect(undoInputs.c).toEqual({ input: { id: 'c', ms: 100 }, output: { made: 'c' } });
    const record = await runLog.read(result.runId);
    expect(record?.completionOrder).toEqual(['a', 'x', 'c', 'd', 'b']);
    expect(record?.compensated).toEqual(['b', 'd', 'c', 'a']);
    expect(record?.states.map((s) => s.state)).toEqual(['pending', 'running', 'compensating', 'compensated']);
    expect(record?.steps.find((s) => s.stepId === 'x')?.status).toBe('succeeded');
  });

  it('records a compensation failure, still compensates the rest, and ends failed', async () => {
    const { clock, runner, runLog, def, undone } = sagaSetup({ failUndoOf: 'd', undoFailure: 'PERMANENT' });
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('failed');
    expect(undone).toEqual(['b', 'c', 'a']);
    expect(result.compensated).toEqual(['b', 'c', 'a']);
    expect(result.compensationFailures).toHaveLength(1);
    expect(result.compensationFailures[0]).toMatchObject({
      stepId: 'd',
      error: {
        code: 'PERMANENT',
        message: 'cannot release d',
        context: { stepId: 'd', compensation: 'undo' },
      },
    });
    const record = await runLog.read(result.runId);
    expect(record?.compensationFailures.map((f) => f.stepId)).toEqual(['d']);
    expect(record?.steps.find((s) => s.stepId === 'd')?.status).toBe('compensation-failed');
    expect(record?.state).toBe('failed');
  });

  it('an undo that fails for now (TRANSIENT) is left to recovery, not given up: the run stays compensating', async () => {
    const { clock, runner, runLog, def, undone } = sagaSetup({ failUndoOf: 'd', undoFailure: 'TRANSIENT' });
    const result = await clock.drive(runner.run(def));
    expect(result.undoPending).toBe(true);
    expect(result.compensationFailures.map((f) => [f.stepId, f.error.code])).toEqual([['d', 'TRANSIENT']]);
    expect(undone).toEqual(['b', 'c', 'a']);
    expect((await runLog.read(result.runId))?.state).toBe('compensating');
  });

  it('uses compensate.input with refs to its own step input and output', async () => {
    const calls: unknown[] = [];
    const { clock, runner } = setup({
      reservations: {
        reserve: async (input: { seats: number }) => ({ reservationId: `r-${input.seats}` }),
        release: async (input) => {
          calls.push(input);
        },
        charge: async () => {
          throw new TroupeError('PERMANENT', 'card declined');
        },
      },
    });
    const def = workflow('book')
      .step('reserve', 'reservations', 'reserve', {
        input: { seats: 2 },
        compensate: {
          operation: 'release',
          input: { id: stepOutput('reserve', 'reservationId'), seats: { $ref: 'steps.reserve.input.seats' } },
        },
      })
      .step('charge', 'reservations', 'charge', { dependsOn: ['reserve'] })
      .build();
    const result = await clock.drive(runner.run(def));
    expect(result.status).toBe('compensated');
    expect(calls).toEqual([{ id: 'r-2', seats: 2 }]);
  });
});
