import { performance } from 'node:perf_hooks';
import { planCreateAgent } from '../configuration/create-agent.js';
import { TroupeError } from '../domain/errors.js';
import { sampleAgent, samplePersonality, sampleRole } from './samples.js';
import { createTestConfiguration, type TestConfiguration } from './test-configuration.js';

/** Timing statistics in milliseconds. */
export interface Stats {
  runs: number;
  median: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

export interface MeasureOptions {
  /** Timed runs (default 200). */
  runs?: number;
  /** Untimed runs first, to warm caches and the JIT (default 20). */
  warmup?: number;
  /** Time source in ms (default `performance.now`); a test may pass a fake one. */
  now?: () => number;
}

/**
 * Median, p95 (nearest rank), min, max and mean of durations in ms.
 *
 * @example
 * ```ts
 * stats([12, 10, 11, 30]); // { runs: 4, median: 11.5, p95: 30, min: 10, max: 30, mean: 15.75 }
 * ```
 */
export function stats(durations: readonly number[]): Stats {
  if (durations.length === 0) throw new TroupeError('USAGE', 'stats: no durations');
  const bad = durations.findIndex((d) => typeof d !== 'number' || !Number.isFinite(d) || d < 0);
  if (bad !== -1)
    throw new TroupeError(
      'USAGE',
      `stats: a duration must be a finite number of ms, not negative; durations[${bad}] is ${String(durations[bad])} (a clock that went back?)`,
    );
  const sorted = [...durations].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    runs: n,
    median,
    p95: sorted[Math.ceil(0.95 * n) - 1]!,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean: sorted.reduce((s, d) => s + d, 0) / n,
  };
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * Time `fn` (sync or async) `runs` times after `warmup` untimed runs.
 *
 * @example
 * ```ts
 * const tc = createTestConfiguration();
 * const { median, p95 } = await measure(() => tc.services.roles.list(), { runs: 50, warmup: 5 });
 * ```
 */
export async function measure(fn: () => unknown, opts: MeasureOptions = {}): Promise<Stats> {
  const runs = opts.runs ?? 200;
  const warmup = opts.warmup ?? 20;
  if (!(Number.isInteger(runs) && runs >= 1 && Number.isInteger(warmup) && warmup >= 0))
    throw new TroupeError(
      'USAGE',
      `measure: runs must be an integer ≥ 1 and warmup ≥ 0, got ${runs}, ${warmup}`,
    );
  const now = opts.now ?? (() => performance.now());
  for (let i = 0; i < warmup; i++) {
    const r = fn();
    if (isThenable(r)) await r;
  }
  const durations: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = now();
    const r = fn();
    if (isThenable(r)) await r;
    durations.push(now() - start);
  }
  return stats(durations);
}

/** One figure of the plan: measured against its budget. */
export interface Figure {
  name: string;
  budgetMs: number;
  median: number;
  p95: number;
  /** budget / median: how many times under budget (Infinity when the median is ≤ 0). */
  ratio: number;
  withinBudget: boolean;
}

export interface PlanFigures {
  fixtureLoad: Figure & { stats: Stats };
  fakeCreation: Figure & { stats: Stats };
  /** Per operation: a workflow through the ConfigurationService minus the same calls made directly. */
  coordinationOverhead: Figure & { workflow: Stats; direct: Stats };
}

/**
 * The budgets of the original plan, in ms: what `planFigures` measures against.
 *
 * @example
 * ```ts
 * const { median } = await measure(() => createTestConfiguration());
 * if (median > PLAN_BUDGETS.fakeCreation) console.warn(`fake creation: ${median} ms`);
 * ```
 */
export const PLAN_BUDGETS = { fixtureLoad: 100, fakeCreation: 50, coordinationOverhead: 10 } as const;

function figure(name: string, budgetMs: number, median: number, p95: number): Figure {
  return {
    name,
    budgetMs,
    median,
    p95,
    ratio: median > 0 ? budgetMs / median : Number.POSITIVE_INFINITY,
    withinBudget: median <= budgetMs,
  };
}

async function seeded(): Promise<TestConfiguration> {
  const tc = createTestConfiguration({ stepFaults: false });
  await tc.drive(tc.config.createPersonality(samplePersonality));
  await tc.drive(tc.config.createRole(sampleRole));
  return tc;
}

/**
 * Measures the plan's three figures: fixture load (`loadFixtures`, given by the caller),
 * fake creation (`createTestConfiguration`) and coordination overhead (creating an agent
 * through the ConfigurationService's workflow vs planning and committing it directly, on
 * two identically seeded configurations over fakes).
 *
 * @example
 * ```ts
 * const figures = await planFigures({ loadFixtures: () => JSON.parse(readFileSync('cast.json', 'utf8')) });
 * for (const f of [figures.fixtureLoad, figures.fakeCreation, figures.coordinationOverhead])
 *   console.log(`${f.name}: median ${f.median.toFixed(2)} ms, budget ${f.budgetMs} ms`);
 * ```
 */
export async function planFigures(opts: {
  loadFixtures: () => unknown;
  runs?: number;
  warmup?: number;
}): Promise<PlanFigures> {
  const m = { runs: opts.runs ?? 200, warmup: opts.warmup ?? 20 };
  const fixtures = await measure(opts.loadFixtures, m);
  const creation = await measure(() => createTestConfiguration(), m);

  const viaWorkflow = await seeded();
  const direct = await seeded();
  let w = 0;
  let d = 0;
  const workflow = await measure(
    () => viaWorkflow.drive(viaWorkflow.config.createAgent({ agent: sampleAgent(`agent-${w++}`) })),
    m,
  );
  const plain = await measure(async () => {
    const now = new Date(direct.clock.now()).toISOString();
    const run = async () => {
      const plan = await planCreateAgent(direct.services, { agent: sampleAgent(`agent-${d++}`) }, now);
      return direct.services.store.commit(plan.ops);
    };
    return direct.drive(run());
  }, m);

  const { fixtureLoad, fakeCreation, coordinationOverhead } = PLAN_BUDGETS;
  return {
    fixtureLoad: { ...figure('fixture load', fixtureLoad, fixtures.median, fixtures.p95), stats: fixtures },
    fakeCreation: {
      ...figure('fake creation', fakeCreation, creation.median, creation.p95),
      stats: creation,
    },
    coordinationOverhead: {
      ...figure(
        'coordination overhead per operation',
        coordinationOverhead,
        workflow.median - plain.median,
        workflow.p95 - plain.p95,
      ),
      workflow,
      direct: plain,
    },
  };
}
