import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootedAt } from '../platform/liveness.js';
import { FileRunLog } from './file-run-log.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lease files a killed process left behind', () => {
  it('are removed: beside a finished log at once, without any log once surely abandoned; a fresh one stays', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-runlog-'));
    const old = new Date(Date.now() - 10 * 60_000);
    const make = async (name: string, text = '', aged = true) => {
      await writeFile(join(dir, name), text);
      if (aged) await utimes(join(dir, name), old, old);
    };
    await make('done1.done.jsonl');
    await make('done1.released.2', '{}', false);
    await make('nolog.lease.1', '{}');
    await make('empty.jsonl');
    await make('empty.lease.1', '{}');
    await make('young.lease.1', '{}', false);
    // Untouched since before this machine started, but held: its holder is another machine's
    // (a shared directory), which set a long lease and has not run out of time.
    await make(
      'held.lease.1',
      JSON.stringify({
        runId: 'held',
        epoch: 1,
        token: 't',
        holder: { pid: 1, host: 'another-machine' },
        expiresAt: Date.now() + 3_600_000,
      }),
    );
    const beforeBoot = new Date(bootedAt() - 60_000);
    await utimes(join(dir, 'held.lease.1'), beforeBoot, beforeBoot);
    const log = new FileRunLog(dir);
    expect(await log.listUnfinished()).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['done1.done.jsonl', 'held.lease.1', 'young.lease.1']);
    await log.close();
  });
});
