import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { FileRunLog } from '../../src/orchestration/file-run-log.js';
import type { FileStoreHooks } from '../../src/storage/file/apply.js';
import { FileStore } from '../../src/storage/file/store.js';
import { contents } from '../contents.js';
import { BIG_FIVE } from '../races/processes.js';
import { mountSmallDisk, type SmallDisk, smallDiskSkipReason } from './small-disk.js';

// The disk fills up at the two moments a sweep of free space rarely hits: just after the
// commit record is durable (the files cannot be written, so the change is decided but not
// visible), and just after the files are written (the run log cannot record the step).

const reason = await smallDiskSkipReason('disk-full tests');

const AGENTS = 30;

const open = async (dir: string, hooks: FileStoreHooks = {}) => {
  const store = await FileStore.open(dir, { hooks });
  const runLog = new FileRunLog(join(dir, '.troupe', 'runs'));
  return { store, runLog, config: new ConfigurationService(store, { runLog }) };
};

describe.runIf(!reason)('the disk fills at the worst moments of a change (a real tmpfs)', () => {
  let disk: SmallDisk;
  let n = 0;
  beforeAll(async () => {
    disk = await mountSmallDisk(16);
  });
  afterAll(async () => {
    await disk?.unmount();
  });

  async function seeded() {
    await disk.unfill();
    const dir = join(disk.path, `cfg${n++}`);
    const store = await FileStore.init(dir);
    await new ConfigurationService(store).applyBundle({
      personalities: [{ id: 'calm', name: 'Calm', bigFive: BIG_FIVE }],
      roles: [{ id: 'rev', name: 'Reviewer', systemPrompt: 'You review code carefully.' }],
      agents: [...Array(AGENTS).keys()].map((i) => ({
        id: `a${i}`,
        name: `A ${i}`,
        personalityId: 'calm',
        roleId: 'rev',
        model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      })),
    });
    await store.close();
    return { dir, before: await contents(dir) };
  }

  /** A hook that fills the disk the first time it runs. */
  const fillOnce = () => {
    let armed = true;
    return async () => {
      if (!armed) return;
      armed = false;
      await disk.fill(0);
    };
  };

  it('full right after the commit point: reads refuse the stale files, and the change is undone once there is room', async () => {
    const { dir, before } = await seeded();
    const { store, config } = await open(dir, { afterJournal: fillOnce() });
    const failed = await config
      .updatePersonality('calm', { bigFive: { openness: 99 } })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ context: { undoPending: true } });
    // The change is decided in the journal but not in the files: no read shows the files without it.
    await expect(config.services.personalities.get('calm')).rejects.toThrow(
      /committed change could not be written/,
    );
    await disk.unfill();
    await store.close().catch(() => undefined);
    // Reopened with room: the journal completes the change, recovery undoes the failed run.
    const again = await open(dir);
    const recovered = await again.config.recover();
    expect(recovered.map((r) => r.status)).toEqual(['compensated']);
    expect(await contents(dir)).toEqual(before);
    expect(await again.config.detectInconsistencies()).toEqual([]);
    await again.store.close();
  });

  it('full right after the files are written: the run log cannot record the step, and the undo that follows is recorded whole', async () => {
    const { dir, before } = await seeded();
    const { store, runLog, config } = await open(dir, { afterApplied: fillOnce() });
    await expect(config.updatePersonality('calm', { bigFive: { openness: 99 } })).rejects.toThrow(
      /disk is full/,
    );
    await disk.unfill();
    // The same process, the same run log: what it appends now follows whole lines only.
    const recovered = await config.recover();
    expect(recovered.map((r) => r.status)).toEqual(['compensated']);
    expect(await contents(dir)).toEqual(before);
    await runLog.list();
    expect(runLog.unreadable).toEqual([]);
    expect(await config.detectInconsistencies()).toEqual([]);
    await store.close();
  });
});
