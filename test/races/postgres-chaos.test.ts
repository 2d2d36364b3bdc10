import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { DONE_STATES } from '../../src/orchestration/events.js';
import { PostgresStore } from '../../src/postgres/store.js';
import { postgresUnavailable } from '../../src/postgres/test-db.test-helper.js';
import { castDir, type Exit, type Spawned, started } from './processes.js';

/**
 * Four instances on one PostgreSQL, killed and restarted at random, and the server itself
 * restarted once. The cluster the chaos restarts is one of its own (`troupe_chaos`, port
 * 5433, made by .ci/run), so the other tests' server stays up.
 */
const CHAOS_URL =
  process.env.TROUPE_CHAOS_POSTGRES ?? 'postgres://postgres:troupe@127.0.0.1:5433/troupe_test';
const restart = () => execFileSync('pg_ctlcluster', ['15', 'chaos', 'restart'], { stdio: 'ignore' });

async function reason(): Promise<string | undefined> {
  const down = await postgresUnavailable();
  if (down) return down;
  try {
    execFileSync('pg_ctlcluster', ['15', 'chaos', 'status'], { stdio: 'ignore' });
    return undefined;
  } catch {
    const why = 'no PostgreSQL cluster "15 chaos" to restart (.ci/run makes one)';
    if (process.env.CI === 'true') throw new Error(`CI must provide it: ${why}`);
    return why;
  }
}
const skip = await reason();

type Line =
  | { ok: true; revision: number; humor: number; unchanged: boolean; runId: string }
  | { ok: false; code: string; message: string }
  | { recovered: string; status: string };
const linesOf = (e: { stdout: string } | Exit) =>
  e.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(!skip)('instances killed at random, and a PostgreSQL restart, while runs go on', () => {
  it('strands no run, executes none twice, loses no acknowledged write, and leaves all consistent', async () => {
    const url = await castDir(6, 'postgres', CHAOS_URL);
    const start = (await withConfig(url, (c) => c.services.personalities.require('hub'))).revision;
    const finished: Exit[] = [];
    const running = new Set<Spawned>();
    let next = 0;
    const launch = (count: number) => {
      const s = started('./instance-child.ts', [url, String(next++), String(count)]);
      running.add(s);
      void s.exit.then((e) => {
        running.delete(s);
        finished.push(e);
      });
      return s;
    };
    for (let i = 0; i < 4; i++) launch(25);
    // Three kills, each of an instance that has acknowledged something (so it is mid-work),
    // each replaced by a fresh instance; the server restarts once, between the kills.
    let kills = 0;
    for (let round = 0; round < 800 && kills < 3; round++) {
      await sleep(25);
      const busy = [...running].filter((s) => s.stdout().includes('"ok":true'));
      // The work ran out before the kills did (a restart holds everyone up, then they finish
      // at once): a fresh instance brings more, as a server's next request would.
      if (!busy.length && running.size < 2) launch(25);
      const victim = busy[Math.floor(Math.random() * busy.length)];
      if (!victim || round % 8 !== 0) continue;
      victim.kill();
      kills++;
      // As much work as an instance it replaces: the next kill finds one busy.
      launch(25);
      if (kills === 2) restart();
    }
    while (running.size) await sleep(50);
    // The cast keeps a live instance, as a server does: one more starts, sweeps, and stops.
    const last = await started('./instance-child.ts', [url, String(next++), '0']).exit;
    expect(last.code, last.stderr).toBe(0);
    finished.push(last);
    const killed = finished.filter((e) => e.code === null);
    expect(kills, 'the instances finished before three kills').toBe(3);
    expect(killed.length).toBe(kills);
    for (const e of finished.filter((x) => x.code !== null)) expect(e.code, e.stderr).toBe(0);
    const lines = finished.flatMap(linesOf);
    const acks = lines.filter((l): l is Extract<Line, { ok: true }> => 'ok' in l && l.ok && !l.unchanged);
    // Failures are the restart's (the server away, an undo it cut short left to recovery) or lost
    // races, never anything else.
    for (const f of lines.filter((l): l is Extract<Line, { ok: false }> => 'ok' in l && !l.ok)) {
      expect(['TRANSIENT', 'CONCURRENT_MODIFICATION', 'WORKFLOW_FAILED'], JSON.stringify(f)).toContain(
        f.code,
      );
      // A failed change's undo is finished later, or found superseded by a later writer's change.
      if (f.code === 'WORKFLOW_FAILED')
        expect(f.message).toMatch(
          /the rest of the undo is left to recovery|changed by someone else since, so their version is kept/,
        );
    }
    expect(acks.length).toBeGreaterThan(0);
    // What the dead left was taken over by the living (each recovery line is an instance's).
    const _recovered = lines.filter((l): l is Extract<Line, { recovered: string }> => 'recovered' in l);

    await withConfig(url, async (config, store) => {
      // 0 stranded: the live instances recovered what the dead ones left, before this check.
      const runs = await config.listRuns();
      const open = runs.filter((r) => !DONE_STATES.has(r.state));
      const why = await Promise.all(
        open.map(async (r) =>
          (await store.runLog().read(r.runId))?.compensationFailures.map((f) => f.error.message),
        ),
      );
      expect(open, JSON.stringify(why)).toEqual([]);
      // 0 executed twice: a run's steps were started under one lease only (a takeover compensates).
      for (const r of runs) {
        const record = await store.runLog().read(r.runId);
        const epochs = new Set(
          (record?.events ?? [])
            .filter((e) => e.type === 'step' && e.kind === 'start')
            .map((e) => e.epoch ?? 0),
        );
        expect(epochs.size, `run ${r.runId}`).toBeLessThanOrEqual(1);
      }
      // 0 lost acknowledged writes: each has its own revision, none beyond what is stored, and the
      // stored value is the acknowledged one at that revision (or a killed instance's unacknowledged one).
      const stored = await config.services.personalities.require('hub');
      const revisions = acks.map((a) => a.revision);
      expect(new Set(revisions).size).toBe(revisions.length);
      for (const r of revisions) expect(r).toBeLessThanOrEqual(stored.revision);
      expect(stored.revision).toBeGreaterThan(start);
      const last = acks.find((a) => a.revision === stored.revision);
      if (last) expect(stored.behaviors?.humor).toBe(last.humor);
      // The run of every acknowledged write completed.
      const completed = new Set(runs.filter((r) => r.state === 'completed').map((r) => r.runId));
      for (const a of acks) expect(completed.has(a.runId), a.runId).toBe(true);
      expect(await config.detectInconsistencies()).toEqual([]);
    });
  }, 180_000);
});

describe.runIf(!skip)('a watch when the server restarts', () => {
  it('ends with TRANSIENT naming the position to watch again from, instead of waiting forever', async () => {
    const url = await castDir(0, 'postgres', CHAOS_URL);
    const store = await PostgresStore.connect(url, { poolSize: 2 });
    try {
      const from = await store.feedPosition();
      await store.put('models', { id: 'seen' });
      const feed = store.watch({ fromRevision: from })[Symbol.asyncIterator]();
      const first = (await feed.next()).value as { position: number };
      const next = feed.next(); // waiting for news
      restart();
      await expect(next).rejects.toMatchObject({
        code: 'TRANSIENT',
        message: expect.stringContaining(`watch again with fromRevision ${first.position}`),
      });
    } finally {
      await store.close();
    }
  }, 60_000);
});

async function withConfig<T>(
  url: string,
  fn: (c: ConfigurationService, s: PostgresStore) => Promise<T>,
): Promise<T> {
  const store = await PostgresStore.connect(url, { poolSize: 2 });
  try {
    return await fn(new ConfigurationService(store, { runLog: store.runLog() }), store);
  } finally {
    await store.close();
  }
}
