import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** One line of a benchmark report; `ratio` is value ÷ the baseline row's value. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
}

export interface TimingOptions {
  /** Calls per round. */
  iterations: number;
  /** Measured rounds; the median is reported. */
  rounds?: number;
  /** Unmeasured rounds first, so the JIT has settled. */
  warmupRounds?: number;
  /** Called before each round (outside the timing), e.g. to start from a fresh log. */
  beforeRound?: () => void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Median time per call of `fn` in milliseconds, awaiting each call before the next. */
export async function timePerOp(fn: () => Promise<unknown>, opts: TimingOptions): Promise<number> {
  const rounds = opts.rounds ?? 7;
  const warmup = opts.warmupRounds ?? 2;
  const perOp: number[] = [];
  for (let r = 0; r < warmup + rounds; r++) {
    opts.beforeRound?.();
    const t0 = performance.now();
    for (let i = 0; i < opts.iterations; i++) await fn();
    const elapsed = performance.now() - t0;
    if (r >= warmup) perOp.push(elapsed / opts.iterations);
  }
  return median(perOp);
}

/**
 * Median time per call of each function, the calls taking turns (one of each per round): on a
 * machine whose speed drifts, every function sees the same drift, so their ratios hold.
 */
export async function timeInTurns(
  fns: Record<string, () => Promise<unknown>>,
  opts: { rounds: number; warmupRounds: number },
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < opts.warmupRounds + opts.rounds; r++)
    for (const [name, fn] of Object.entries(fns)) {
      const t0 = performance.now();
      await fn();
      if (r >= opts.warmupRounds) times[name]?.push(performance.now() - t0);
    }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** Fill in `ratio` for rows that name a baseline present in the list. */
export function withRatios(rows: BenchRow[]): BenchRow[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  return rows.map((r) => {
    const base = r.baseline === undefined ? undefined : byName.get(r.baseline);
    return base && base.value > 0 ? { ...r, ratio: r.value / base.value } : r;
  });
}

/** A plain-text table of rows. */
export function formatTable(rows: BenchRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    `${r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline}`,
  ]);
  const head = ['benchmark', 'value', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** True when the module was started directly (`npx tsx bench/x.bench.ts`), not imported. */
export function isMain(meta: ImportMeta): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
