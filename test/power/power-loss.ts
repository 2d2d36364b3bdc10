import { cp, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { contents as byPath } from '../contents.js';
import { leftovers } from '../leftovers.js';
import { inconsistencies, troupe } from '../races/processes.js';
import {
  type DiskRecord,
  type Loss,
  materialize,
  readLog,
  readTree,
  SimDisk,
  type Tree,
  treeKey,
} from './sim-disk.js';

/** Entity and resolved files by content, as one text (an outcome is one of two such texts). */
export const contents = async (dir: string) =>
  Object.entries(await byPath(dir))
    .map(([f, c]) => `${f} ${c}`)
    .join('\n');

/** A power-loss moment of a recorded run: after which record, and the crash point it is at. */
export interface Moment {
  index: number;
  point: string;
  /** The command had printed its result: what is on disk from here on was acknowledged. */
  acknowledged: boolean;
  loss: Loss;
  tree: Tree;
}

/**
 * Runs the CLI in a child on `target` (by default `root`) with its disk changes recorded; the
 * log of them, and a model of the disk under `root` as it was before.
 */
export async function recorded(
  root: string,
  args: string[],
  logFile: string,
  target = root,
  env: NodeJS.ProcessEnv = {},
) {
  const tree = await readTree(root);
  const r = await troupe(target, args, { ...env, TROUPE_DISK_LOG: logFile });
  // `sim` is used up by a replay: `fresh()` gives another, at the start again.
  const fresh = () => SimDisk.from(root, tree);
  return { exit: r, sim: fresh(), fresh, log: await readLog(logFile) };
}

/**
 * Power-loss moments at every crash point of a recorded run (and its very start and end; with
 * `from`, only from that record on): at each, the disk a strict loss leaves (nothing not
 * durable survives), one that keeps folder changes but no unsynced data, and `seeds` that a
 * seeded loss leaves (a prefix of what was not durable, the last write perhaps torn).
 * Identical disks are given once, with the latest moment (acknowledged if any was).
 */
export function moments(sim: SimDisk, log: DiskRecord[], seed: number, from = -1, seeds = 1): Moment[] {
  const out = new Map<string, Moment>();
  let acknowledged = false;
  const take = (index: number, point: string) => {
    if (index < from) return;
    const mixed = Array.from({ length: seeds }, (_, k) => ({ seed: seed + index * seeds + k }));
    for (const loss of ['strict', 'meta', ...mixed] as Loss[]) {
      const tree = sim.lose(loss);
      out.set(treeKey(tree), { index, point, acknowledged, loss, tree });
    }
  };
  take(-1, '(start)');
  log.forEach((r, i) => {
    sim.apply(r);
    if (r.o !== 'point') return;
    if (r.n === 'cli:stdout') acknowledged = true;
    take(i, r.d ? `${r.n} ${r.d}` : r.n);
  });
  take(log.length, '(end)');
  return [...out.values()];
}

/** What a power loss leaves at the first crash point named `point` of a recorded run. */
export function lostAt(sim: SimDisk, log: DiskRecord[], point: string, loss: Loss): Tree | undefined {
  for (const r of log) {
    sim.apply(r);
    if (r.o === 'point' && r.n === point) return sim.lose(loss);
  }
  return undefined;
}

/** The CLI in this process: the next command after the power loss, which recovers first. */
export async function inProcess(dir: string, args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['--dir', dir, ...args], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: { ...process.env, TROUPE_HOME: '' },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

export const describeMoment = (m: Moment) =>
  `power lost after record ${m.index} (${m.point}), ${typeof m.loss === 'string' ? m.loss : `seed ${m.loss.seed}`}`;

/**
 * The disk a moment leaves, at `dir`, then the next command: it must parse every file, recover
 * to all of the change or none of it (all of it once acknowledged), consistent (none of it:
 * with only the `baseline` problems the directory had before), nothing left.
 */
export async function survives(
  dir: string,
  m: Moment,
  [before, after]: [string, string],
  baseline: string[] = [],
) {
  const where = describeMoment(m);
  await materialize(m.tree, dir);
  const v = await inProcess(dir, ['validate']);
  expect(v.stderr, where).not.toMatch(/damaged/);
  const now = await contents(dir);
  expect(m.acknowledged ? [after] : [before, after], where).toContain(now);
  // None of it is the directory as it was, with what it had wrong before (a hand edit).
  const problems = now === before ? baseline : [];
  expect(await inconsistencies(dir), where).toEqual(problems);
  expect(v.code, `${where}: ${v.stdout}${v.stderr}`).toBe(problems.length ? 1 : 0);
  expect(await leftovers(dir), where).toEqual([]);
  return now === before ? 'none' : 'all';
}

/** A scratch root (real path: the disk log records real paths) and a copy of a template in it. */
export async function scratch(prefix: string) {
  const root = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  let n = 0;
  return {
    root,
    copy: async (template: string) => {
      const dir = join(root, `d${n++}`);
      await cp(template, dir, { recursive: true });
      return dir;
    },
    file: (name: string) => join(root, `${name}-${n++}`),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

export const readText = (p: string) => readFile(p, 'utf8');

/** Records of a hand edit made after the run: a whole new file, fsynced, its folder fsynced. */
export function handWrite(path: string, text: string): DiskRecord[] {
  const folder = path.slice(0, path.lastIndexOf('/'));
  return [
    { o: 'open', h: -1, p: path, create: true, trunc: true, append: false },
    { o: 'write', h: -1, at: null, d: Buffer.from(text).toString('base64') },
    { o: 'sync', h: -1 },
    { o: 'close', h: -1 },
    { o: 'open', h: -2, p: folder, create: false, trunc: false, append: false },
    { o: 'sync', h: -2 },
    { o: 'close', h: -2 },
    { o: 'point', n: 'hand-edit', d: path },
  ];
}
