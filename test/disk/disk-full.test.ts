import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contents } from '../contents.js';
import { leftovers } from '../leftovers.js';
import { BIG_FIVE, troupe } from '../races/processes.js';
import { mountSmallDisk, type SmallDisk, smallDiskSkipReason } from './small-disk.js';

// A full disk at any moment of a change must leave everything as it was (or, past the commit
// point, completed): the command fails with a message that says so, nothing is left locked or
// half written, and once space is freed the next command sees a consistent directory with no
// run log skipped. The disk is a real tmpfs filled up to a little below each point in turn.

const reason = await smallDiskSkipReason('disk-full tests');

const AGENTS = 40;
/** `agents` agents `<prefix>0…`; those of prefix `a` use personality calm. */
const bundle = (prefix: string, agents: number) => ({
  personalities:
    prefix === 'a'
      ? [{ id: 'calm', name: 'Calm', bigFive: BIG_FIVE, behaviors: { humor: 20 } }]
      : [{ id: `${prefix}p`, name: `P ${prefix}`, bigFive: BIG_FIVE }],
  roles: [{ id: `${prefix}r`, name: `Reviewer ${prefix}`, systemPrompt: 'You review code carefully.' }],
  agents: [...Array(agents).keys()].map((i) => ({
    id: `${prefix}${i}`,
    name: `${prefix.toUpperCase()} ${i}`,
    personalityId: prefix === 'a' ? 'calm' : `${prefix}p`,
    roleId: `${prefix}r`,
    model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
  })),
});

async function unfinishedRuns(dir: string): Promise<string[]> {
  const r = await troupe(dir, ['workflow', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const runs = JSON.parse(r.stdout) as Array<{ runId: string; state: string }>;
  return runs.filter((x) => !['completed', 'failed', 'compensated'].includes(x.state)).map((x) => x.runId);
}

interface Point {
  leaveKiB: number;
  code: number | null;
}

/**
 * Seeds a directory on the small disk, fills the disk to `leaveKiB` free, runs `args`, frees
 * the space and checks the invariants; returns the exit code the change had.
 */
async function tryAt(
  disk: SmallDisk,
  leaveKiB: number,
  args: string[],
  changed: (before: Record<string, string>, after: Record<string, string>) => boolean,
): Promise<Point> {
  const dir = join(disk.path, 'cfg');
  await rm(dir, { recursive: true, force: true });
  await disk.unfill();
  await cp(disk.template, dir, { recursive: true });
  const before = await contents(dir);
  await disk.fill(leaveKiB);
  const r = await troupe(dir, args);
  await disk.unfill();
  if (r.code !== 0) {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the disk is full/);
  }
  // Nothing is left locked or half written, even before any other command has run.
  // (a run whose undo the full disk refused is left unfinished, for the next command)
  expect((await leftovers(dir)).filter((p) => !p.includes('/runs/'))).toEqual([]);
  const v = await troupe(dir, ['validate']);
  expect(v.stderr).not.toMatch(/damaged/);
  expect(v.code, `${v.stdout}${v.stderr}`).toBe(0);
  const after = await contents(dir);
  // A failed command changed nothing; one that succeeded did all of its change.
  if (r.code === 0) expect(changed(before, after)).toBe(true);
  else {
    const differ = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
    expect(
      differ,
      `after exit 1 at ${leaveKiB} KiB free (${r.stderr.trim()}): ${differ.slice(0, 2).map((k) => `${k}: ${before[k]} -> ${after[k]}`)}`,
    ).toEqual([]);
  }
  expect(await unfinishedRuns(dir), `after exit ${r.code} at ${leaveKiB} KiB free: ${r.stderr}`).toEqual([]);
  expect(await leftovers(dir)).toEqual([]);
  return { leaveKiB, code: r.code };
}

/** Free space a change needs, stepped through so the disk runs out at each stage of it. */
const sweep = (maxKiB: number, points: number) =>
  [...Array(points).keys()].map((i) => Math.round((i * maxKiB) / (points - 1)));

describe.runIf(!reason)('a full disk at every stage of a change (a real tmpfs)', () => {
  let disk: SmallDisk;
  beforeAll(async () => {
    disk = await mountSmallDisk(16);
    // One seeded directory, copied for every point: personality calm and its agents.
    const template = join(disk.path, 'template');
    expect((await troupe(template, ['init'])).code).toBe(0);
    await writeFile(join(disk.path, 'seed.json'), JSON.stringify(bundle('a', AGENTS)));
    const seeded = await troupe(template, ['apply', '-f', join(disk.path, 'seed.json')]);
    expect(seeded.code, seeded.stderr).toBe(0);
    disk.template = template;
  });
  afterAll(async () => {
    await disk?.unmount();
  });

  it('a cascading personality update: fails whole or succeeds whole, and every later command is clean', {
    timeout: 240_000,
  }, async () => {
    const points: Point[] = [];
    for (const leave of sweep(600, 16))
      points.push(
        await tryAt(disk, leave, ['personality', 'update', 'calm', '--trait', 'humor=7'], (b, a) => {
          const calm = JSON.parse(a['personalities/calm.json']!) as { behaviors: { humor: number } };
          return (
            calm.behaviors.humor === 7 &&
            Object.keys(a).every(
              (k) => k === 'personalities/calm.json' || !k.startsWith('agents/') || a[k] !== b[k],
            )
          );
        }),
      );
    // The sweep reached both ends: out of space at once, and room enough to succeed.
    expect(points[0]!.code).toBe(1);
    expect(points.at(-1)!.code).toBe(0);
    expect(points.filter((p) => p.code === 1).length, JSON.stringify(points)).toBeGreaterThan(6);
  });

  it('applying a bundle of new entities: all of it or none of it', { timeout: 240_000 }, async () => {
    const points: Point[] = [];
    await writeFile(join(disk.path, 'more.json'), JSON.stringify(bundle('b', AGENTS)));
    for (const leave of sweep(800, 12))
      points.push(
        await tryAt(disk, leave, ['apply', '-f', join(disk.path, 'more.json')], (b, a) =>
          [...Array(AGENTS).keys()].every(
            (i) => a[`agents/b${i}.json`] && a[`resolved/b${i}.json`] && !b[`agents/b${i}.json`],
          ),
        ),
      );
    expect(points[0]!.code).toBe(1);
    expect(points.at(-1)!.code).toBe(0);
  });
});
