import { readFile } from 'node:fs/promises';
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

describe('a holder that stalls while another process takes its run over', () => {
  it.runIf(process.platform === 'linux')(
    'writes nothing when it goes on: the change is all undone, not half left (file store)',
    async () => {
      // Where the run's intent is durable: from there on its change may land, and a recovery has it to undo.
      const traced = await castDir(3);
      const traceFile = join(traced, 'trace.txt');
      expect((await troupe(traced, UPDATE, { TROUPE_CRASH_TRACE: traceFile })).code).toBe(0);
      const points = (await readFile(traceFile, 'utf8')).trim().split('\n');
      const intent = points.findIndex((p) => /^runlog:written \S+ intent$/.test(p)) + 1;
      expect(intent).toBeGreaterThan(0);

      const dir = await castDir(3);
      const before = await snapshotDir(dir);
      const stalled = spawned(process.execPath, [bin, '--dir', dir, ...UPDATE], {
        TROUPE_PAUSE_AT: `#${intent}`,
      });
      try {
        await untilStopped(stalled.pid as number);
        const runs = JSON.parse((await troupe(dir, ['workflow', 'list', '--json'])).stdout) as Array<{
          runId: string;
          state: string;
        }>;
        const running = runs.filter((r) => r.state === 'running');
        expect(running).toHaveLength(1);
        const runId = (running[0] as { runId: string }).runId;
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
      expect(await snapshotDir(dir)).toEqual(before);
      expect(await inconsistencies(dir)).toEqual([]);
    },
  );
});
