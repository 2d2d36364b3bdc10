import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRunLog } from '../orchestration/file-run-log.js';
import { runChild } from '../storage/file/spawn.test-helper.js';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, reviewer } from './test-setup.test-helper.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const AGENTS = 40;

async function castDir() {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-recovery-crash-'));
  dirs.push(dir);
  const store = await FileStore.init(dir);
  const config = new ConfigurationService(store);
  await config.createPersonality({ ...calm, id: 'hub', name: 'Hub' });
  await config.createRole(reviewer);
  await config.applyBundle({
    agents: [...Array(AGENTS).keys()].map((i) => agentInput(`a${i}`, { personalityId: 'hub' })),
  });
  await store.close();
  return dir;
}

const open = async (dir: string) => {
  const store = await FileStore.open(dir);
  const config = new ConfigurationService(store, { runLog: new FileRunLog(join(dir, '.troupe', 'runs')) });
  return { store, config };
};

describe('a kill during the recovery of a cascading update', () => {
  it.each(['recover', 'recover:after'])(
    'killed at %s: the next recovery finishes it, and no agent is left stale',
    async (point) => {
      const dir = await castDir();
      const exit = await runChild('../../configuration/recovery-crash-child.test-helper.ts', [dir, 'update']);
      expect(exit.signal).toBe('SIGKILL');
      // The update committed (personality and every agent at once) and then died.
      {
        const { store, config } = await open(dir);
        expect((await config.services.personalities.require('hub')).bigFive.openness).toBe(99);
        expect(await config.detectInconsistencies()).toEqual([]);
        await store.close();
      }
      const second = await runChild('../../configuration/recovery-crash-child.test-helper.ts', [dir, point]);
      expect(second.signal).toBe('SIGKILL');
      const { store, config } = await open(dir);
      // Whatever the killed recovery did, the directory is never half undone...
      expect(await config.detectInconsistencies()).toEqual([]);
      const recovered = await config.recover();
      expect(recovered.map((r) => r.status)).toEqual(['compensated']);
      // ...and once recovered, the update is gone everywhere: personality and all agents.
      const hub = await config.services.personalities.require('hub');
      expect(hub.bigFive.openness).toBe(calm.bigFive.openness);
      const agents = await config.services.agents.list();
      expect(agents).toHaveLength(AGENTS);
      for (const a of agents) expect(a.personalityVersion).toBe(hub.revision);
      expect(await config.detectInconsistencies()).toEqual([]);
      expect(await config.recover()).toEqual([]);
      await store.close();
    },
    60_000,
  );
});
