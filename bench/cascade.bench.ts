import { renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationService } from '../src/configuration/configuration-service.js';
import type { TroupeBundle } from '../src/configuration/inputs.js';
import { FileRunLog } from '../src/orchestration/file-run-log.js';
import { FileStore } from '../src/storage/file/store.js';
import { type BenchRow, formatTable, isMain, withRatios } from './run.js';

const bigFive = { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 };

/** A bundle of `agents` agents over `people` personalities and `roles` roles. */
function bundle(agents: number, people: number, roles: number): TroupeBundle {
  return {
    personalities: [...Array(people).keys()].map((i) => ({ id: `p${i}`, name: `P${i}`, bigFive })),
    roles: [...Array(roles).keys()].map((i) => ({
      id: `r${i}`,
      name: `R${i}`,
      systemPrompt: 'Review code.',
    })),
    agents: [...Array(agents).keys()].map((i) => ({
      id: `a${i}`,
      name: `A${i}`,
      personalityId: `p${i % people}`,
      roleId: `r${i % roles}`,
      model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
    })),
  };
}

async function withDir<T>(fn: (config: ConfigurationService, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-cascade-'));
  const store = await FileStore.init(dir);
  try {
    return await fn(
      new ConfigurationService(store, { runLog: new FileRunLog(join(dir, '.troupe', 'runs')) }),
      dir,
    );
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/**
 * The floor a cascade stands on: the personality, the agents and their resolved files, each
 * replaced atomically (temp file and rename, as the store does), with nothing else around it.
 */
async function replaceFiles(n: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-floor-'));
  try {
    const text = `${JSON.stringify({ id: 'x', systemPrompt: 'y'.repeat(1200) }, null, 2)}\n`;
    const times: number[] = [];
    for (let r = 0; r < 3; r++)
      times.push(
        await ms(async () => {
          for (let i = 0; i < n; i++) {
            writeFileSync(join(dir, `.f${i}.tmp`), text, { flag: 'wx' });
            renameSync(join(dir, `.f${i}.tmp`), join(dir, `f${i}.json`));
          }
        }),
      );
    return times.sort((a, b) => a - b)[1]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Median of `n` cascading updates of a personality every one of `agents` agents uses. */
async function cascade(agents: number, n = 3): Promise<number> {
  return withDir(async (config) => {
    await config.applyBundle(bundle(agents, 1, 1));
    const times: number[] = [];
    for (let i = 0; i < n; i++)
      times.push(await ms(() => config.updatePersonality('p0', { behaviors: { humor: 10 + i } })));
    return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
  });
}

/** One apply of a fresh bundle; its time and the growth of the heap while it ran. */
async function apply(agents: number, people: number, roles: number) {
  return withDir(async (config) => {
    const b = bundle(agents, people, roles);
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    let peak = heap0;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    const t = await ms(() => config.applyBundle(b));
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { t, mb: (peak - heap0) / 2 ** 20 };
  });
}

/**
 * The cascade of a personality update across its agents (one commit: the personality, every
 * agent, every resolved file), at 1k and 10k agents: the 10k row's ratio to the 1k row shows
 * whether the cost is linear (≈ 10). The same for applying a large bundle, with its memory.
 */
export async function cascadeBench(): Promise<BenchRow[]> {
  const floor = await replaceFiles(2_001);
  const c1k = await cascade(1_000);
  const c10k = await cascade(10_000, 1);
  const a1 = await apply(5_000, 500, 250);
  return withRatios([
    { name: '2,001 files replaced one by one (temp + rename, no fsync)', value: floor, unit: 'ms' },
    {
      name: 'cascading update, 1,000 agents (target ≤ 500 ms)',
      value: c1k,
      unit: 'ms',
      baseline: '2,001 files replaced one by one (temp + rename, no fsync)',
    },
    {
      name: 'cascading update, 10,000 agents',
      value: c10k,
      unit: 'ms',
      baseline: 'cascading update, 1,000 agents (target ≤ 500 ms)',
    },
    { name: 'apply 5,000 agents + 750 personalities/roles (target ≤ 2,500 ms)', value: a1.t, unit: 'ms' },
    { name: '  heap growth during that apply (target ≤ 200 MB)', value: a1.mb, unit: 'MB' },
  ]);
}

if (isMain(import.meta)) console.log(formatTable(await cascadeBench()));
