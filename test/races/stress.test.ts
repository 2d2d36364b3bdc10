import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stat } from '../stats.js';
import { castDir, type Exit, inconsistencies, readDoc, type Spawned, started, troupe } from './processes.js';

// Library processes updating one personality with every conflict strategy in turn, a CLI
// process updating it too, and a seeded killer that SIGKILLs a random process — the lock
// holder whenever it is one of them — and starts a fresh one in its place. Afterwards: no
// acknowledged write lost or undone, no revision handed out twice, no dead holder's lock in
// anyone's way, everything consistent.

const SEED = 20261201;
/** A small seeded generator (mulberry32), so a failing schedule can be run again. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ack {
  revision: number;
  humor: number;
  runId?: string | undefined;
  who: string;
}

/** The acknowledged writes a process printed (a killed one may have cut its last line short). */
function acksOf(
  out: string,
  who: string,
): { acks: Ack[]; failures: Array<{ code: string; strategy?: string }> } {
  const acks: Ack[] = [];
  const failures: Array<{ code: string; strategy?: string }> = [];
  for (const line of out.split('\n')) {
    let l: {
      ok: boolean;
      unchanged?: boolean;
      revision: number;
      humor: number;
      runId?: string;
      code: string;
    };
    try {
      l = JSON.parse(line);
    } catch {
      continue;
    }
    if (l.ok && !l.unchanged) acks.push({ revision: l.revision, humor: l.humor, runId: l.runId, who });
    else if (!l.ok) failures.push(l);
  }
  return { acks, failures };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stress: many processes, every conflict strategy, random kills', () => {
  it('no acknowledged write is lost or undone, no revision is handed out twice, no dead holder blocks anyone', async () => {
    const random = seeded(SEED);
    const dir = await castDir(5);
    const live = new Map<Spawned, string>();
    const ended: Array<{ exit: Exit; who: string; killed: boolean }> = [];
    const killedSet = new Set<Spawned>();
    let next = 0;
    const spawn = () => {
      const who = String(next++);
      const p = started('./library-child.ts', [dir, who, '20', 'strategies']);
      live.set(p, who);
      void p.exit.then((exit) => {
        live.delete(p);
        ended.push({ exit, who, killed: killedSet.has(p) });
      });
    };
    for (let i = 0; i < 4; i++) spawn();
    // A CLI process too, plain updates one after another.
    const cliAcks: Ack[] = [];
    const cli = (async () => {
      for (let i = 0; i < 12; i++) {
        const r = await troupe(dir, [
          'personality',
          'update',
          'hub',
          '--trait',
          `humor=${90 + (i % 10)}`,
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { personality: { revision: number }; unchanged?: boolean };
        if (!out.unchanged)
          cliAcks.push({ revision: out.personality.revision, humor: 90 + (i % 10), who: 'cli' });
      }
    })();
    // Eight kills at seeded moments; half of them aim at whoever holds the lock.
    let lockHolderKills = 0;
    for (let k = 0; k < 8; k++) {
      await sleep(150 + Math.floor(random() * 350));
      const procs = [...live.keys()];
      if (procs.length === 0) break;
      let victim = procs[Math.floor(random() * procs.length)]!;
      if (random() < 0.5) {
        // Watch the lock for a moment: it is held only while a commit is under way.
        for (let tries = 0; tries < 200; tries++) {
          const holder = await readFile(join(dir, '.troupe', 'lock'), 'utf8')
            .then((t) => (JSON.parse(t) as { pid: number }).pid)
            .catch(() => undefined);
          const held = procs.find((p) => p.pid === holder && live.has(p));
          if (held) {
            victim = held;
            lockHolderKills++;
            break;
          }
          await sleep(1);
        }
      }
      killedSet.add(victim);
      victim.kill();
      spawn();
    }
    await cli;
    while (live.size > 0) await Promise.all([...live.keys()].map((p) => p.exit));
    await sleep(0);

    const failures: Array<{ code: string; strategy?: string }> = [];
    const acks: Ack[] = [...cliAcks];
    for (const e of ended) {
      if (!e.killed) expect(e.exit.code, e.exit.stderr).toBe(0);
      const got = acksOf(e.exit.stdout, e.who);
      acks.push(...got.acks);
      failures.push(...got.failures);
    }
    expect(ended.filter((e) => e.killed).length).toBeGreaterThanOrEqual(4);
    expect(acks.length).toBeGreaterThan(20);
    // A compare-and-swap that lost its race is refused ("reject") or settled; nothing else fails.
    for (const f of failures) expect(f.code, JSON.stringify(f)).toBe('CONCURRENT_MODIFICATION');

    // No revision is handed out twice.
    const revisions = acks.map((a) => a.revision);
    expect(revisions.length - new Set(revisions).size).toBe(0);

    // A dead holder's lock is in nobody's way: the next write goes through at once, and it
    // recovers what the killed processes left half done.
    const after = await troupe(dir, ['personality', 'update', 'hub', '--trait', 'humor=42']);
    expect(after.code, after.stderr).toBe(0);

    // Every acknowledged write stands: its run completed (never compensated later), and the
    // stored revision is past all of them.
    const stored = (await readDoc(dir, 'personalities/hub.json'))!;
    for (const a of acks) expect(a.revision).toBeLessThan(stored.revision);
    for (const a of acks.filter((x) => x.runId)) {
      const log = await readFile(join(dir, '.troupe', 'runs', `${a.runId}.done.jsonl`), 'utf8');
      const last = JSON.parse(log.trim().split('\n').at(-1)!) as { to?: string };
      expect(last.to, `run ${a.runId} of process ${a.who}`).toBe('completed');
    }
    expect(await inconsistencies(dir)).toEqual([]);
    // The schedule really killed lock holders, not only idle processes.
    expect(lockHolderKills).toBeGreaterThan(0);
    stat('processes and conflicting updates', 'processes', ended.length + 12);
    stat('processes and conflicting updates', 'acknowledged writes', acks.length);
    stat('processes and conflicting updates', 'refused compare-and-swap', failures.length);
    stat('processes and conflicting updates', 'kills (lock holders)', lockHolderKills);
  }, 240_000);
});
