import { existsSync } from 'node:fs';
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
import type { PolicyDefinition, StepContext } from '../src/orchestration/index.js';
import { type BenchRow, formatTable, isMain, timeInTurns, timePerOp, withRatios } from './run.js';

/**
 * The engine as users run it: the built JavaScript (`npm run build`), as cockatiel runs from
 * its built package. Run from TypeScript source through tsx, every closure the engine makes is
 * also wrapped to keep its name, which doubles the engine's figure and is no part of it.
 */
const BUILT = new URL('../dist/orchestration/index.js', import.meta.url);
if (!existsSync(BUILT))
  throw new Error('bench/engine.bench.ts measures the built engine: run `npm run build` first');
const {
  attemptEvents,
  CircuitBreaker,
  capture,
  MemoryRunLog,
  mathRandom,
  realClock,
  retry: retryPolicy,
  startCall,
  timeout: timeoutPolicy,
  WorkflowRunner,
  workflow,
  wrap: wrapPolicies,
}: typeof import('../src/orchestration/index.js') = await import(BUILT.href);

const ITERATIONS = 40_000;
/** Calls per timed batch. */
const BATCH = 500;
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

  const breaker = new CircuitBreaker('svc', { failureThreshold: 3, recoveryMs: 5_000 }, realClock);
  // The step executor's composition, with the events it listens to.
  const engineSteps = wrapPolicies(
    breaker,
    retryPolicy(policy.retry, { clock: realClock, random: mathRandom }),
    attemptEvents(realClock),
    timeoutPolicy(policy.timeoutMs, { clock: realClock, label: 'svc.op' }),
  );
  const events = { attemptStart: () => {}, attemptEnd: () => {} };
  const engineCall = () =>
    engineSteps.execute(
      ({ signal = ctx.signal, attempt }) => capture(() => handler(input, { ...ctx, signal, attempt })),
      startCall(undefined, events),
    );

  const retryable = handleWhen((e) => isTroupeError(e) && e.retryable);
  const cockatielPolicy = wrap(
    retry(retryable, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 100, exponent: 2 }) }),
    circuitBreaker(retryable, { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(3) }),
    timeout(1_000, TimeoutStrategy.Aggressive),
  );
  const cockatielCall = () => cockatielPolicy.execute(({ signal }) => handler(input, { ...ctx, signal }));
  // Batches of calls taking turns: the machine's drift falls on all three alike.
  const batch = (fn: () => Promise<unknown>) => async () => {
    for (let i = 0; i < BATCH; i++) await fn();
  };
  const perBatch = await timeInTurns(
    { direct: batch(() => handler(input, ctx)), engine: batch(engineCall), cockatiel: batch(cockatielCall) },
    { rounds: ITERATIONS / BATCH, warmupRounds: 5 },
  );
  const [direct, engine, cockatiel] = [perBatch.direct, perBatch.engine, perBatch.cockatiel].map(
    (ms) => (ms ?? 0) / BATCH,
  ) as [number, number, number];

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
