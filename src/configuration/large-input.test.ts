import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRunLog } from '../orchestration/file-run-log.js';
import { LOG_INLINE_BYTES } from '../orchestration/logged.js';
import type { RunEvent, RunLog } from '../orchestration/run-log.js';
import { runChild } from '../storage/file/spawn.test-helper.js';
import { FileStore } from '../storage/file/store.js';
import { ConfigurationService } from './configuration-service.js';
import { largeBundle, MARKER } from './large-input.test-helper.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function fresh() {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-large-input-'));
  dirs.push(dir);
  await (await FileStore.init(dir)).close();
  return dir;
}

const runsOf = (dir: string) => join(dir, '.troupe', 'runs');

describe('a large input is recorded by digest, not copied into the run log', () => {
  it('no line the run appends carries the bundle or its documents, and the run still finishes', async () => {
    expect(JSON.stringify(largeBundle()).length).toBeGreaterThan(LOG_INLINE_BYTES);
    const dir = await fresh();
    const store = await FileStore.open(dir);
    const file = new FileRunLog(runsOf(dir));
    const lines: string[] = [];
    const runLog: RunLog = {
      append: (runId: string, e: RunEvent) => {
        lines.push(JSON.stringify(e));
        return file.append(runId, e);
      },
      read: (id) => file.read(id),
      list: () => file.list(),
      listUnfinished: () => file.listUnfinished(),
      claim: (id, o) => file.claim(id, o),
      renew: (l) => file.renew(l),
      release: (l) => file.release(l),
      isHeld: (id) => file.isHeld(id),
    };
    const config = new ConfigurationService(store, { runLog });
    await config.applyBundle(largeBundle());
    expect(await config.services.agents.list()).toHaveLength(400);
    expect(lines.filter((l) => l.includes(MARKER)).map((l) => l.slice(0, 160))).toEqual([]);
    expect(lines.some((l) => l.includes('"$digest":"sha256:'))).toBe(true);
    await store.close();
  });

  it.each(['persist', 'verify'])(
    'killed in %s after the commit: recovery undoes it from the intent, the log never held the bundle',
    async (at) => {
      const dir = await fresh();
      const exit = await runChild('../../configuration/large-input-child.test-helper.ts', [dir, at]);
      expect(exit.signal, exit.stderr).toBe('SIGKILL');
      const [log] = await readdir(runsOf(dir));
      expect((await readFile(join(runsOf(dir), log!), 'utf8')).includes(MARKER)).toBe(false);
      const store = await FileStore.open(dir);
      const config = new ConfigurationService(store, { runLog: new FileRunLog(runsOf(dir)) });
      expect(await config.services.agents.list()).toHaveLength(400);
      const recovered = await config.recover();
      expect(recovered.map((r) => r.status)).toEqual(['compensated']);
      expect(await config.services.agents.list()).toEqual([]);
      expect(await config.services.roles.list().then((rs) => rs.filter((r) => !r.predefined))).toEqual([]);
      expect(await config.detectInconsistencies()).toEqual([]);
      await store.close();
    },
  );
});
