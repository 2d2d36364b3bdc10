import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, withBundle, writeBundle } from '../crash/commands.js';
import { castDir, inconsistencies } from '../races/processes.js';
import { stat } from '../stats.js';
import {
  contents,
  describeMoment,
  handWrite,
  inProcess,
  lostAt,
  moments,
  recorded,
  scratch,
  survives,
} from './power-loss.js';
import { materialize } from './sim-disk.js';

// A SIGKILL cannot show a missing fsync: the page cache outlives the process. Here each writing
// command runs once with its disk changes recorded, and a model of the disk replays them to ask
// what a power loss at every crash point would leave (strictly: nothing not fsynced; and a
// seeded mix with torn writes). The next command then runs on what survived.

let s: Awaited<ReturnType<typeof scratch>>;
let template: string;
let bundle: string;
beforeAll(async () => {
  s = await scratch('troupe-power-');
  template = `${s.root}/template`;
  await cp(await castDir(3), template, { recursive: true });
  bundle = await writeBundle(s.root);
});
afterAll(async () => {
  await s.remove();
});

describe('power lost at every crash point of a writing command', () => {
  it.each(COMMANDS)(
    '%s: all of it or none of it after the next command, and all of it once acknowledged',
    { timeout: 300_000 },
    async (_name, raw, prepare) => {
      const args = withBundle(raw, bundle);
      const start = await s.copy(template);
      await prepare?.(start);
      const before = await contents(start);
      const baseline = await inconsistencies(start);
      const dir = await s.copy(start);
      const { exit, sim, log } = await recorded(dir, args, s.file('disk-log'));
      expect(exit.code, exit.stderr).toBe(0);
      const after = await contents(dir);
      expect(after).not.toBe(before);
      const all = moments(sim, log, 1000);
      expect(all.length).toBeGreaterThan(10);

      const outcomes = new Set<string>();
      const check = await s.copy(start);
      for (const m of all) outcomes.add(await survives(check, m, [before, after], baseline));
      expect([...outcomes].sort()).toEqual(['all', 'none']);
      stat('crash points, power lost (simulated disk)', 'commands', 1);
      stat(
        'crash points, power lost (simulated disk)',
        'crash points',
        log.filter((r) => r.o === 'point').length,
      );
      stat('crash points, power lost (simulated disk)', 'distinct disks checked', all.length);
    },
  );
});

describe('power lost again while recovering', () => {
  it('a cascading update whose power failed after its commit, its recovery losing power at each of its crash points: the next command still undoes it whole', {
    timeout: 300_000,
  }, async () => {
    const args = COMMANDS[0]![1];
    const before = await contents(template);
    const dir = await s.copy(template);
    const first = await recorded(dir, args, s.file('disk-log'));
    expect(first.exit.code).toBe(0);
    const after = await contents(dir);
    // The strict loss right after the update step's commit, before its success was recorded.
    const cut = lostAt(first.sim, first.log, 'step:update:done', 'strict');
    expect(cut).toBeDefined();
    await materialize(cut!, dir);
    const recovery = await recorded(dir, ['validate'], s.file('recovery-log'));
    expect(recovery.exit.code, recovery.exit.stderr).toBe(0);
    expect(recovery.exit.stderr).toMatch(/recovered run .*: compensated/);
    expect(await contents(dir)).toBe(before);
    const all = moments(recovery.sim, recovery.log, 2000);
    expect(all.length).toBeGreaterThan(5);
    const check = await s.copy(template);
    for (const m of all) {
      // A failed change is never finished by a recovery: it comes back to none of it.
      expect(await survives(check, { ...m, acknowledged: false }, [before, after])).toBe('none');
    }
    stat('crash points, power lost (simulated disk)', 'disks checked during recovery', all.length);
  });
});

describe('power lost where only some stores go', () => {
  it('a store whose journal was removed: the commit that creates it again makes its name durable first', {
    timeout: 300_000,
  }, async () => {
    const args = COMMANDS[0]![1];
    const before = await contents(template);
    const dir = await s.copy(template);
    await rm(join(dir, '.troupe', 'journal'));
    const start = await s.copy(dir);
    const { exit, sim, log } = await recorded(dir, args, s.file('disk-log'));
    expect(exit.code, exit.stderr).toBe(0);
    const after = await contents(dir);
    const check = await s.copy(start);
    const outcomes = new Set<string>();
    for (const m of moments(sim, log, 3000)) outcomes.add(await survives(check, m, [before, after]));
    expect([...outcomes].sort()).toEqual(['all', 'none']);
  });

  it('a file written by hand after an acknowledged delete is never deleted again by a power loss', {
    timeout: 120_000,
  }, async () => {
    const dir = await s.copy(template);
    const { exit, fresh, log } = await recorded(dir, ['agent', 'delete', 'a1'], s.file('disk-log'));
    expect(exit.code, exit.stderr).toBe(0);
    // The user writes agents/a1.json again by hand, durably (an editor's write and fsync).
    const path = join(dir, 'agents', 'a1.json');
    const text = JSON.stringify({
      id: 'a1',
      name: 'A1 by hand',
      personalityId: 'spare',
      roleId: 'reviewer',
      model: { provider: 'openai', modelId: 'gpt-4o' },
    });
    for (const loss of ['strict', 'meta'] as const) {
      const tree = lostAt(fresh(), [...log, ...handWrite(path, text)], 'hand-edit', loss);
      expect(tree).toBeDefined();
      await materialize(tree!, dir);
      await inProcess(dir, ['validate']);
      expect(await readFile(path, 'utf8'), loss).toBe(text);
    }
  });

  it('a run log compacted as its run finishes: the run stays on record, completed, whatever the power loss', {
    timeout: 300_000,
  }, async () => {
    // Enough agents that the finished run's log is compacted (over 64 KiB).
    const big = join(s.root, 'big-bundle.json');
    await writeFile(
      big,
      JSON.stringify({
        agents: Array.from({ length: 36 }, (_, i) => ({
          id: `m${i}`,
          name: `M${i}`,
          personalityId: 'spare',
          roleId: 'reviewer',
          model: { provider: 'openai', modelId: 'gpt-4o' },
        })),
      }),
    );
    const before = await contents(template);
    const dir = await s.copy(template);
    const { exit, sim, log } = await recorded(dir, ['apply', '-f', big], s.file('disk-log'));
    expect(exit.code, exit.stderr).toBe(0);
    const opened = log.find((r) => r.o === 'open' && r.p.includes('/runs/') && r.p.endsWith('.jsonl'));
    const runId = opened?.o === 'open' ? opened.p.replace(/^.*\/runs\/|\.jsonl$/g, '') : '';
    const after = await contents(dir);
    // From the run's final line on: what finishing it does to its log.
    const final = log.findLastIndex((r) => r.o === 'point' && r.n === 'synced:runlog');
    const compacted = log.some(
      (r) => r.o === 'rename' && r.b.endsWith(`${runId}.done.jsonl`) && r.a.endsWith('.tmp'),
    );
    expect(compacted, 'the log was compacted').toBe(true);
    const check = await s.copy(template);
    const all = moments(sim, log, 4000, final, 0);
    expect(all.length).toBeGreaterThan(3);
    for (const m of all) {
      expect(await survives(check, m, [before, after])).toBe('all');
      const shown = await inProcess(check, ['workflow', 'show', runId, '--json']);
      expect(shown.code, `${describeMoment(m)}: ${shown.stderr}`).toBe(0);
      expect((JSON.parse(shown.stdout) as { state: string }).state, describeMoment(m)).toBe('completed');
    }
  });

  it('a commit whose journal fsync fails is refused, and no power loss brings it back', {
    timeout: 300_000,
  }, async () => {
    const args = COMMANDS[0]![1];
    const before = await contents(template);
    const dir = await s.copy(template);
    const { exit, sim, log } = await recorded(dir, args, s.file('disk-log'), dir, {
      TROUPE_DISK_FAULT: 'sync:journal',
    });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/could not write the journal.*EIO/);
    expect(await contents(dir)).toBe(before);
    // From the failed fsync on: the journal is cut back; a loss must never keep the record.
    const failed = log.findIndex((r) => r.o === 'point' && r.n === 'journal:written');
    const check = await s.copy(template);
    for (const m of moments(sim, log, 5000, failed, 12))
      expect(await survives(check, m, [before, before])).toBe('none');
  });
});
