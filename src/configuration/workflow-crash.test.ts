import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRunLog } from '../orchestration/file-run-log.js';
import { runChild } from '../storage/file/spawn.test-helper.js';
import { FileStore } from '../storage/file/store.js';
import type { Kind } from '../storage/store.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, reviewer } from './test-setup.test-helper.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function seededDir() {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-wf-crash-'));
  dirs.push(dir);
  const store = await FileStore.init(dir);
  const config = new ConfigurationService(store);
  await config.createPersonality(calm);
  await config.createRole(reviewer);
  await config.createAgent({ agent: agentInput('a1') });
  await store.close();
  return dir;
}

const ids = async (dir: string) => {
  const out: Record<string, string[]> = {};
  for (const k of ['personalities', 'roles', 'agents', 'resolved'] as Kind[])
    out[k] = (await readdir(join(dir, k))).sort();
  return out;
};

/** The step (service.operation) during which the child dies; `:after` = after it committed. */
const points = ['file.persist', 'file.persist:after', 'configuration.verify', 'file.revert:in-compensation'];

describe('a crash in the middle of a workflow', () => {
  it.each(points)('killed at %s: the next open compensates it, all or nothing', async (point) => {
    const dir = await seededDir();
    const before = await ids(dir);
    const exit = await runChild('../../configuration/workflow-crash-child.test-helper.ts', [dir, point]);
    expect(exit.signal).toBe('SIGKILL');
    const store = await FileStore.open(dir);
    const runLog = new FileRunLog(join(dir, '.troupe', 'runs'));
    const [interrupted] = await runLog.list();
    expect(interrupted).toBeDefined();
    const config = new ConfigurationService(store, { runLog });
    const recovered = await config.recover();
    expect(recovered.map((r) => [r.status, r.compensationFailures.map((f) => f.error.message)])).toEqual([
      ['compensated', []],
    ]);
    expect(await ids(dir)).toEqual(before);
    expect(await config.detectInconsistencies()).toEqual([]);
    expect((await config.showRun(interrupted!.runId))!.state).toBe('compensated');
    expect(await config.recover()).toEqual([]);
    await store.close();
  });
});
