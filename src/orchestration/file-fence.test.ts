import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../storage/file/store.js';
import { FileRunLog } from './file-run-log.js';
import { gatedWrite } from './gated-write.test-helper.js';
import { WorkflowRunner } from './runner.js';

let dir: string;
let store: FileStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-file-fence-'));
  store = await FileStore.init(dir);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

/** The run log the CLI keeps beside the store (the store's fence reads its leases). */
const runLog = () => new FileRunLog(join(dir, '.troupe', 'runs'));

describe('the file store fences a taken-over run', () => {
  it('a step of a run claimed by another (recover --force) writes nothing, though its process goes on', async () => {
    const { open, waiting, services, def } = gatedWrite(() => store, 'late');
    const running = new WorkflowRunner({ services, runLog: runLog() }).run(def, {}, { runId: 'zombie-1' });
    await waiting;
    // Another process takes the run over (forced: its holder is alive, this very process).
    const taken = await runLog().claim('zombie-1', { force: true });
    expect(taken?.epoch).toBe(2);
    open();
    const r = await running;
    expect(r.status).not.toBe('completed');
    expect(r.error?.message).toMatch(
      /taken over by another instance \(its lease is at epoch 2, this write holds 1\)/,
    );
    expect(await store.get('personalities', 'late')).toBeUndefined();
    // Its end did not retire the run: that is the new holder's, lease and all.
    expect(await runLog().isHeld('zombie-1')).toBe(true);
    // The new holder's write goes through.
    await store.commit([{ op: 'put', kind: 'personalities', doc: { id: 'late' } }], {
      fence: { runId: 'zombie-1', epoch: 2 },
    });
    expect((await store.get('personalities', 'late'))?.revision).toBe(1);
  });

  it('after two takeovers, both earlier holders are refused, and one whose lease was given back too', async () => {
    const first = await runLog().claim('chain-1', { fresh: true });
    const second = await runLog().claim('chain-1', { force: true });
    const third = await runLog().claim('chain-1', { force: true });
    expect([first?.epoch, second?.epoch, third?.epoch]).toEqual([1, 2, 3]);
    const put = (epoch: number) =>
      store.commit([{ op: 'put', kind: 'roles', doc: { id: `r${epoch}` } }], {
        fence: { runId: 'chain-1', epoch },
      });
    await expect(put(1)).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    await expect(put(2)).rejects.toThrow(/its lease is at epoch 3, this write holds 2/);
    await put(3);
    await runLog().release(third as NonNullable<typeof third>);
    await expect(put(2)).rejects.toThrow(/its lease is at epoch 3/);
    expect((await store.list('roles')).map((r) => r.id)).toEqual(['r3']);
  });

  it('a run whose log is kept elsewhere has nothing to check: its commits go through', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'troupe-runs-elsewhere-'));
    try {
      const log = new FileRunLog(elsewhere);
      await log.claim('away-1', { fresh: true });
      await log.claim('away-1', { force: true });
      await store.commit([{ op: 'put', kind: 'personalities', doc: { id: 'away' } }], {
        fence: { runId: 'away-1', epoch: 1 },
      });
      expect((await store.get('personalities', 'away'))?.revision).toBe(1);
      // With its runs folder named, a store takes a run with nothing there for one that ended
      // (its log pruned since), not for one kept elsewhere: as the CLI opens it.
      const named = await FileStore.open(dir, { runsDir: join(dir, '.troupe', 'runs') });
      try {
        await expect(
          named.commit([{ op: 'put', kind: 'personalities', doc: { id: 'gone' } }], {
            fence: { runId: 'pruned-1', epoch: 1 },
          }),
        ).rejects.toThrow(/run pruned-1 was taken over by another instance, which has finished it since/);
      } finally {
        await named.close();
      }
      // Named as the store's run log, the same leases fence it.
      const fenced = await FileStore.open(dir, { runsDir: elsewhere });
      try {
        await expect(
          fenced.commit([{ op: 'put', kind: 'personalities', doc: { id: 'away2' } }], {
            fence: { runId: 'away-1', epoch: 1 },
          }),
        ).rejects.toThrow(/taken over/);
      } finally {
        await fenced.close();
      }
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
