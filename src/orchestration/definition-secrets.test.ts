import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import { assertNoRecordedSecrets, defineWorkflow, type WorkflowDefinitionInput } from './definition.js';
import { FileRunLog } from './file-run-log.js';
import type { ServiceHandlers } from './handlers.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

const key = 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const step = { id: 'a', service: 's', operation: 'o' };
const issuesOf = (def: WorkflowDefinitionInput) => {
  try {
    assertNoRecordedSecrets(defineWorkflow(def));
    return [];
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    return e.issues.map((i) => i.path);
  }
};

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a definition whose recorded strings hold a key', () => {
  it('is refused at the start of a run, naming each field; a key in a constant input is redacted instead', () => {
    expect(issuesOf({ id: key, steps: [step] })).toEqual(['id']);
    expect(issuesOf({ id: 'w', name: `name ${key}`, steps: [step] })).toEqual(['name']);
    expect(issuesOf({ id: 'w', description: `uses ${key}`, steps: [step] })).toEqual(['description']);
    expect(issuesOf({ id: 'w', steps: [{ ...step, sensitive: [key] }] })).toEqual(['steps.0.sensitive.0']);
    expect(issuesOf({ id: 'w', steps: [{ ...step, input: { token: key } }] })).toEqual([]);
  });

  it('takes ordinary ids, names and hashes: camelCase with digits, dashless UUIDs, an MD5 in a description', () => {
    expect(
      issuesOf({
        id: 'nightlyReconcileOfProductionAgents2025v1',
        steps: [
          {
            ...step,
            id: 'migratePersonalitiesV2From2024To2025',
            operation: 'updateAgentsForPersonality2024Q4Batch1',
          },
        ],
      }),
    ).toEqual([]);
    expect(issuesOf({ id: 'w', steps: [{ ...step, id: '550e8400e29b41d4a716446655440000' }] })).toEqual([]);
    expect(
      issuesOf({ id: 'w', description: 'checks d41d8cd98f00b204e9800998ecf8427e', steps: [step] }),
    ).toEqual([]);
  });

  it('is refused by run() before anything is recorded; a word of a name that looks random is redacted in the log', async () => {
    const runLog = new MemoryRunLog();
    const runner = new WorkflowRunner({ services: { s: { o: async () => 1 } }, runLog });
    await expect(runner.run({ id: 'w', description: `uses ${key}`, steps: [step] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await runLog.list()).toEqual([]);
    const token = 'Zq8Xv2Lm9Pw4Rt7Ys1Ku6Nh3Jd5Fb0Gc8Ve2Ta4W';
    const r = await runner.run({ id: 'w', name: `nightly ${token}`, steps: [step] });
    expect(r.status).toBe('completed');
    expect((await runLog.read(r.runId))?.definition.name).toBe('nightly [redacted]');
  });

  it('is never refused when read back from a run log (a run recorded before must stay recoverable)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-defsecret-'));
    const undone: unknown[] = [];
    const services = (): ServiceHandlers => ({
      p: { update: async () => ({ id: 'calm' }), revert: async (i) => void undone.push(i) },
      f: { write: () => new Promise(() => {}) }, // the process "dies" here
    });
    const def = workflow('two')
      .step('a', 'p', 'update', { compensate: { operation: 'revert' } })
      .step('b', 'f', 'write', { dependsOn: ['a'] })
      .build();
    const clock = new VirtualClock();
    const first = new FileRunLog(dir, { leaseMs: 20 });
    void new WorkflowRunner({ clock, runLog: first, services: services(), newRunId: () => 'r-1' }).run(def);
    await clock.drive(
      (async () => {
        while ((await first.read('r-1'))?.steps[1]?.status !== 'running') await clock.sleep(1);
      })(),
    );
    await first.close();
    // As an older troupe, which did not check descriptions, may have recorded it.
    const file = join(dir, 'r-1.jsonl');
    const logged = await readFile(file, 'utf8');
    expect(logged).toContain('"id":"two"');
    await writeFile(file, logged.replace('"id":"two"', `"id":"two","description":"uses ${key}"`));
    await new Promise((r) => setTimeout(r, 50)); // the dead holder's 20 ms lease runs out (real time)
    const [r] = await new WorkflowRunner({
      clock,
      runLog: new FileRunLog(dir),
      services: services(),
    }).recoverInterrupted();
    expect(r?.status).toBe('compensated');
    expect(undone).toHaveLength(1);
  });
});
