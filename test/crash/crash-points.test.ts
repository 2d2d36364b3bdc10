import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers } from '../leftovers.js';
import { contents, inProcess } from '../power/power-loss.js';
import { castDir, inconsistencies, troupe } from '../races/processes.js';
import { stat } from '../stats.js';
import { COMMANDS, withBundle, writeBundle } from './commands.js';

// Every writing command, killed (SIGKILL) at each named crash point it reaches in turn: the
// next command recovers, and the directory is then all of the change or none of it, consistent,
// with no run left unfinished and no lock or temp file behind. TROUPE_CRASH_TRACE lists the
// points a command reaches; TROUPE_CRASH_AT=#N kills it at the N-th.

let root: string;
let template: string;
let bundle: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'troupe-crash-points-'));
  // castDir's own directory is removed after the first test: keep a copy for all of them.
  template = join(root, 'template');
  await cp(await castDir(3), template, { recursive: true });
  bundle = await writeBundle(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function copy(from = template): Promise<string> {
  const dir = join(root, `d${n++}`);
  await cp(from, dir, { recursive: true });
  return dir;
}

/**
 * The points a command reaches, by index: each name's first occurrence (and with `both`, its
 * last: a run of the same point over many files is tried at both ends), and the very last point.
 */
function chosen(trace: string[], both = false): number[] {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  trace.forEach((line, i) => {
    const name = line.split(' ')[0]!;
    if (!first.has(name)) first.set(name, i + 1);
    last.set(name, i + 1);
  });
  const picked = [...first.values(), ...(both ? last.values() : []), trace.length];
  return [...new Set(picked)].sort((a, b) => a - b);
}

/**
 * Runs the next command (any recovers first; validate then checks the whole directory) and
 * checks the invariants: all of the change or none of it, consistent, nothing left behind.
 */
async function recoveredWhole(
  dir: string,
  where: string,
  [before, after]: [string, string],
  baseline: string[] = [],
) {
  // The next command, in this process (the killed one's recovery needs no process of its own).
  const v = await inProcess(dir, ['validate']);
  expect(v.stderr, where).not.toMatch(/damaged/);
  const now = await contents(dir);
  expect([before, after], where).toContain(now);
  // None of it is the directory as it was, with what it had wrong before (a hand edit).
  const problems = now === before ? baseline : [];
  expect(await inconsistencies(dir), where).toEqual(problems);
  expect(v.code, `${where}: ${v.stdout}${v.stderr}`).toBe(problems.length ? 1 : 0);
  const left = await leftovers(dir);
  const logs = await Promise.all(
    left.filter((f) => f.includes('runs/')).map((f) => readFile(join(dir, f), 'utf8')),
  );
  const shown = logs
    .join('\n')
    .split('\n')
    .map((l) => l.slice(0, 160))
    .join('\n');
  expect(left, `${where}: ${shown}`).toEqual([]);
  return now === before ? 'none' : 'all';
}

describe('killed at every crash point of a writing command', () => {
  it.each(COMMANDS)(
    '%s: all of it or none of it, once the next command has run',
    { timeout: 300_000 },
    async (_name, raw, prepare) => {
      const args = withBundle(raw, bundle);
      const start = await copy();
      await prepare?.(start);
      const before = await contents(start);
      const baseline = await inconsistencies(start);
      // The command run whole, with its crash points traced: what "all of it" looks like.
      const whole = await copy(start);
      const traceFile = join(root, `trace-${n}.txt`);
      const done = await troupe(whole, args, { TROUPE_CRASH_TRACE: traceFile });
      expect(done.code, done.stderr).toBe(0);
      const after = await contents(whole);
      expect(after).not.toBe(before);
      const trace = (await readFile(traceFile, 'utf8')).trim().split('\n');
      const points = chosen(trace);
      expect(points.length).toBeGreaterThan(10);
      const outcomes = new Set<string>();
      for (const at of points) {
        const dir = await copy(start);
        const killed = await troupe(dir, args, { TROUPE_CRASH_AT: `#${at}` });
        const where = `killed at #${at} (${trace[at - 1]})`;
        expect(killed.signal, `${where}: ${killed.stderr}`).toBe('SIGKILL');
        outcomes.add(await recoveredWhole(dir, where, [before, after], baseline));
      }
      // Early kills leave none of it, and a kill after the run finished leaves all of it.
      expect([...outcomes].sort()).toEqual(['all', 'none']);
      stat('crash points, killed (SIGKILL)', 'commands', 1);
      stat('crash points, killed (SIGKILL)', 'kills', points.length);
    },
  );
});

describe('killed again while recovering', () => {
  it('a cascading update killed after its commit, its recovery killed at each of its crash points: the next command still undoes it whole', {
    timeout: 300_000,
  }, async () => {
    const args = COMMANDS[0]![1];
    const before = await contents(template);
    const whole = await copy();
    const traceFile = join(root, `trace-${n}.txt`);
    expect((await troupe(whole, args, { TROUPE_CRASH_TRACE: traceFile })).code).toBe(0);
    const after = await contents(whole);
    // Killed right after the update step's commit, before its success is recorded.
    const trace = (await readFile(traceFile, 'utf8')).trim().split('\n');
    const at = trace.indexOf('step:update:done') + 1;
    expect(at).toBeGreaterThan(0);
    const killedAfterCommit = async () => {
      const dir = await copy();
      expect((await troupe(dir, args, { TROUPE_CRASH_AT: `#${at}` })).signal).toBe('SIGKILL');
      return dir;
    };
    // The recovery's own crash points, traced on one copy.
    const traced = await killedAfterCommit();
    const recoveryTrace = join(root, `recovery-trace-${n}.txt`);
    expect((await troupe(traced, ['validate'], { TROUPE_CRASH_TRACE: recoveryTrace })).code).toBe(0);
    expect(await contents(traced)).toBe(before);
    // Both ends of each point's run: the undo's commit and its re-sync's are told apart.
    const points = chosen((await readFile(recoveryTrace, 'utf8')).trim().split('\n'), true);
    expect(points.length).toBeGreaterThan(5);
    for (const j of points) {
      const dir = await killedAfterCommit();
      const where = `recovery killed at #${j}`;
      expect((await troupe(dir, ['validate'], { TROUPE_CRASH_AT: `#${j}` })).signal, where).toBe('SIGKILL');
      // A failed change is never finished by a recovery: it comes back to none of it.
      expect(await recoveredWhole(dir, where, [before, after])).toBe('none');
    }
    stat('crash points, killed (SIGKILL)', 'kills during recovery', points.length);
  });
});
