import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { isTroupeError } from '../src/domain/errors.js';
import {
  attemptEvents,
  CircuitBreaker,
  capture,
  MemoryRunLog,
  mathRandom,
  type PolicyDefinition,
  realClock,
  retry as retryPolicy,
  type StepContext,
  startCall,
  timeout as timeoutPolicy,
  WorkflowRunner,
  workflow,
  wrap as wrapPolicies,
} from '../src/orchestration/index.js';
import { type BenchRow, formatTable, isMain, timePerOp, withRatios } from './run.js';

const ITERATIONS = 20_000;
const RUN_ITERATIONS = 5_000;
const US = 1_000;

const policy: PolicyDefinition = {
  timeoutMs: 1_000,
  retry: { maxAttempts: 3, baseDelayMs: 100, multiplier: 2 },
  circuitBreaker: { failureThreshold: 3, recoveryMs: 5_000 },
};

/**
 * Per-step cost of the engine's policies against a direct call and against cockatiel
 * composing the same three policies, plus whole in-memory workflow runs. Real clock.
 */
export async function engineBench(): Promise<BenchRow[]> {
  const handler = async (input: { n: number }, _ctx?: StepContext) => input.n + 1;
  const input = { n: 1 };
  const ctx: StepContext = {
    signal: new AbortController().signal,
    attempt: 1,
    runId: 'bench',
    workflowId: 'bench',
    stepId: 'a',
    clock: realClock,
  };

  const direct = await timePerOp(() => handler(input, ctx), { iterations: ITERATIONS });

  const breaker = new CircuitBreaker('svc', { failureThreshold: 3, recoveryMs: 5_000 }, realClock);
  // The step executor's composition, with the events it listens to.
  const engineSteps = wrapPolicies(
    breaker,
    retryPolicy(policy.retry, { clock: realClock, random: mathRandom }),
    attemptEvents(realClock),
    timeoutPolicy(policy.timeoutMs, { clock: realClock, label: 'svc.op' }),
  );
  const events = { attemptStart: () => {}, attemptEnd: () => {} };
  const engine = await timePerOp(
    () =>
      engineSteps.execute(
        ({ signal = ctx.signal, attempt }) => capture(() => handler(input, { ...ctx, signal, attempt })),
        startCall(undefined, events),
      ),
    { iterations: ITERATIONS },
  );

  const retryable = handleWhen((e) => isTroupeError(e) && e.retryable);
  const cockatielPolicy = wrap(
    retry(retryable, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 100, exponent: 2 }) }),
    circuitBreaker(retryable, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(3) }),
    timeout(1_000, TimeoutStrategy.Aggressive),
  );
  const cockatiel = await timePerOp(
    () => cockatielPolicy.execute(({ signal }) => handler(input, { ...ctx, signal })),
    { iterations: ITERATIONS },
  );

  const services = {
    svc: { op: (i: { n: number }) => handler(i) },
  };
  let runner = new WorkflowRunner({ services, runLog: new MemoryRunLog() });
  const fresh = () => {
    // A fresh log per round keeps memory flat; runs are not kept once finished.
    runner = new WorkflowRunner({ services, runLog: new MemoryRunLog() });
  };
  const single = workflow('single')
    .step('a', 'svc', 'op', { input: { n: 1 }, policy })
    .build();
  const four = workflow('four')
    .maxParallel(4)
    .step('a', 'svc', 'op', { input: { n: 1 }, policy })
    .step('b', 'svc', 'op', { dependsOn: ['a'], input: { n: { $ref: 'steps.a.output' } }, policy })
    .step('c', 'svc', 'op', { dependsOn: ['a'], input: { n: { $ref: 'steps.a.output' } }, policy })
    .step('d', 'svc', 'op', { dependsOn: ['b', 'c'], input: { n: { $ref: 'steps.c.output' } }, policy })
    .build();
  const runSingle = await timePerOp(() => runner.run(single), {
    iterations: RUN_ITERATIONS,
    beforeRound: fresh,
  });
  const runFour = await timePerOp(() => runner.run(four), { iterations: RUN_ITERATIONS, beforeRound: fresh });

  return withRatios([
    { name: 'direct call', value: direct * US, unit: 'µs/step' },
    {
      name: 'engine retry+breaker+timeout',
      value: engine * US,
      unit: 'µs/step',
      baseline: 'direct call',
    },
    {
      name: 'cockatiel wrap(retry, breaker, timeout)',
      value: cockatiel * US,
      unit: 'µs/step',
      baseline: 'direct call',
    },
    {
      name: 'engine policy overhead',
      value: (engine - direct) * US,
      unit: 'µs/step',
      baseline: 'cockatiel policy overhead',
    },
    { name: 'cockatiel policy overhead', value: (cockatiel - direct) * US, unit: 'µs/step' },
    { name: 'workflow run, 1 step (memory log)', value: runSingle, unit: 'ms' },
    {
      name: 'workflow run, 4 steps (memory log)',
      value: runFour,
      unit: 'ms',
      baseline: 'workflow run, 1 step (memory log)',
    },
  ]);
}

if (isMain(import.meta)) {
  const rows = await engineBench();
  console.log(formatTable(rows));
}
