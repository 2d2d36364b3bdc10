import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, castDir, inconsistencies, snapshotDir, spawned, troupe } from './processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to 20 s) until the process is stopped (SIGSTOP): its state in the process table is T. */
async function untilStopped(pid: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(.*\) T /.test(stat)) return;
    await sleep(10);
  }
  throw new Error(`process ${pid} never stopped`);
}

const UPDATE = ['personality', 'update', 'hub', '--trait', 'humor=7'];

/** What the cast's files say, without what every write moves on (revisions, times, commit ids). */
async function contentOf(dir: string): Promise<Record<string, unknown>> {
  const moving = /^(createdAt|updatedAt|commit|revision|personalityVersion|roleVersion)$/;
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => !moving.test(k))
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  return Object.fromEntries(
    [...(await snapshotDir(dir))].map(([file, text]) => [file, strip(JSON.parse(text))]),
  );
}

/** The index (1-based) of the first crash point of UPDATE on a fresh cast matching `point`. */
async function pointOf(point: RegExp): Promise<number> {
  const traced = await castDir(3);
  const traceFile = join(traced, 'trace.txt');
  expect((await troupe(traced, UPDATE, { TROUPE_CRASH_TRACE: traceFile })).code).toBe(0);
  const at =
    (await readFile(traceFile, 'utf8'))
      .trim()
      .split('\n')
      .findIndex((p) => point.test(p)) + 1;
  expect(at).toBeGreaterThan(0);
  return at;
}

/** UPDATE on a fresh cast, stopped at crash point #at; with the cast's directory and its contents. */
async function stalledAt(at: number) {
  const dir = await castDir(3);
  const before = await contentOf(dir);
  const stalled = spawned(process.execPath, [bin, '--dir', dir, ...UPDATE], { TROUPE_PAUSE_AT: `#${at}` });
  await untilStopped(stalled.pid as number);
  const runs = JSON.parse((await troupe(dir, ['workflow', 'list', '--json'])).stdout) as Array<{
    runId: string;
    state: string;
  }>;
  const running = runs.filter((r) => r.state === 'running');
  expect(running).toHaveLength(1);
  return { dir, before, stalled, runId: (running[0] as { runId: string }).runId };
}

describe('a holder that stalls while another process takes its run over', () => {
  it.runIf(process.platform === 'linux')(
    'stalled inside its commit (past the fence, holding the lock), its change is undone once it lands, and it says so',
    async () => {
      const { dir, before, stalled, runId } = await stalledAt(await pointOf(/^journal:append$/));
      let recovering: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
      try {
        recovering = troupe(dir, ['workflow', 'recover', '--force', runId]);
        // Once the run is claimed, the recovery's undo waits for the lock the holder keeps.
        for (let i = 0; i < 2000; i++) {
          if ((await readdir(join(dir, '.troupe', 'runs'))).includes(`${runId}.lease.2`)) break;
          await sleep(10);
        }
      } finally {
        stalled.signal('SIGCONT');
      }
      const [exit, forced] = [await stalled.exit, await recovering];
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toContain(`Recovered run ${runId} (update-personality): compensated`);
      // Its commit landed (it was past the fence), and was undone: it does not report it done.
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain(`run ${runId} was taken over by another process while it ran`);
      expect(await contentOf(dir)).toEqual(before);
      expect(await inconsistencies(dir)).toEqual([]);
    },
  );

  it.runIf(process.platform === 'linux')(
    'writes nothing when it goes on: the change is all undone, not half left (file store)',
    async () => {
      // Where the run's intent is durable: from there on its change may land, and a recovery has it to undo.
      const { dir, before, stalled, runId } = await stalledAt(await pointOf(/^runlog:written \S+ intent$/));
      try {
        // Its holder is alive (stopped), so only --force takes it; the recovery undoes what the
        // intent names (nothing written yet) and ends the run.
        const forced = await troupe(dir, ['workflow', 'recover', '--force', runId]);
        expect(forced.code, forced.stderr).toBe(0);
        expect(forced.stdout).toContain(`Recovered run ${runId}`);
      } finally {
        stalled.signal('SIGCONT');
      }
      const exit = await stalled.exit;
      // It goes on, and its commit is refused: the run is no longer its own.
      expect(exit.code).toBe(1);
      expect(exit.stderr).toMatch(
        /run \S+ was taken over by another instance, which has finished it since \(this write holds epoch 1\): nothing was written/,
      );
      expect(await contentOf(dir)).toEqual(before);
      expect(await inconsistencies(dir)).toEqual([]);
    },
  );
});
