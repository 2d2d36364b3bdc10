import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { claimedSince, leaseEpochsIn } from '../platform/lease-files.js';
import { FileRunLog } from './file-run-log.js';

/** After every file a claim removes: the state of the run's lease files, as the store's fence reads it. */
const seen: string[] = [];
vi.mock('../platform/disk.js', async (original) => {
  const disk = await original<typeof import('../platform/disk.js')>();
  return {
    ...disk,
    unlink: async (path: string) => {
      await disk.unlink(path);
      const names = readdirSync(dirname(path));
      const { live, released, max } = leaseEpochsIn(names, 'o-1');
      // While an older holder's file is there, the file of the epoch after it is too.
      for (const e of live)
        if (e < max && !live.includes(e + 1) && !released.includes(e + 1))
          seen.push(`lease ${e} without ${e + 1} though ${max} exists`);
    },
  };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-lease-order-'));
  seen.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a claim removes the earlier holders' lease files lowest first", () => {
  it('so a holder whose file is still there always finds the next epoch once it was claimed', async () => {
    const lease = (epoch: number) =>
      JSON.stringify({
        runId: 'o-1',
        epoch,
        token: `t${epoch}`,
        holder: { pid: 1, host: 'x' },
        expiresAt: 0,
      });
    // Earlier claims whose files were left (a claimant that died before removing them).
    await writeFile(join(dir, 'o-1.lease.1'), lease(1));
    await writeFile(join(dir, 'o-1.released.2'), lease(2));
    await writeFile(join(dir, 'o-1.lease.3'), lease(3));
    const taken = await new FileRunLog(dir).claim('o-1', { force: true });
    expect(taken?.epoch).toBe(4);
    expect(seen).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.startsWith('o-1.'))).toEqual(['o-1.lease.4']);
    // Each earlier holder is told the run moved on; the holder of 4 is not.
    for (const e of [1, 2, 3]) expect(await claimedSince(dir, 'o-1', e)).toBe(4);
    expect(await claimedSince(dir, 'o-1', 4)).toBeUndefined();
  });
});
