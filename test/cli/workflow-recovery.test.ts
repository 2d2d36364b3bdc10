import { describe, expect, it } from 'vitest';
import { seeded, warningsIn, write } from './helpers.js';
import { deadPid, interruptedCreate, liveProcess, writeRun } from './run-logs.js';
import { bold } from './workflows.js';

describe('recovery of runs a crashed process left half-done', () => {
  async function withInterruptedRun() {
    const s = await seeded();
    await write(s.root, 'bold.json', JSON.stringify(bold('bold')));
    expect((await s.t('personality', 'create', '--from', 'bold.json')).code).toBe(0);
    return s;
  }

  /** A seeded directory with personality bold, created by a run whose process then crashed. */
  async function withCrashedRun(runId: string) {
    const s = await withInterruptedRun();
    await writeRun(s.dir, runId, interruptedCreate(runId, 'bold', { pid: deadPid() }));
    return s;
  }

  it('any command compensates it first and says so on stderr', async () => {
    const { t } = await withCrashedRun('crashed-1');
    const r = await t('personality', 'list');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('recovered run crashed-1 (create-personality): compensated\n');
    expect(r.stdout).not.toContain('bold');
    expect(r.stdout).toContain('calm');
    expect((await t('personality', 'show', 'bold')).code).toBe(1);
    const show = await t('workflow', 'show', 'crashed-1');
    expect(show.stdout).toContain('  state     compensated\n');
    expect(show.stdout).toMatch(
      /\n {2}1\. personality {2}personality\.revert {2}\+\S+ {2}\d+ ms {2}compensated\n/,
    );
    expect(show.stdout).toContain('interrupted while running; compensating its completed steps');
    expect(show.stdout).toContain('  interrupted mid-call: verify\n');
    // Once is enough.
    expect((await t('personality', 'list')).stderr).toBe('');
  });

  it('with --json the notice goes to stderr and stdout stays parseable', async () => {
    const { t } = await withCrashedRun('crashed-2');
    const r = await t('personality', 'list', '--json');
    expect(r.code).toBe(0);
    // stderr holds JSON only: the notice is one of the command's warnings.
    expect(warningsIn(r.stderr)).toEqual(['recovered run crashed-2 (create-personality): compensated']);
    expect(r.json<Array<{ id: string }>>().map((p) => p.id)).toEqual(['calm']);
  });

  it('leaves alone a run whose owner process is still alive', async () => {
    const { dir, t } = await withInterruptedRun();
    const live = liveProcess();
    try {
      await writeRun(dir, 'busy-1', interruptedCreate('busy-1', 'bold', { pid: live.pid }));
      const r = await t('personality', 'list', '--json');
      expect(r.stderr).toBe('');
      expect(r.json<Array<{ id: string }>>().map((p) => p.id)).toEqual(['bold', 'calm']);
      const show = await t('workflow', 'show', 'busy-1');
      expect(show.stdout).toContain('  state     running (still running)\n');
    } finally {
      live.stop();
    }
  });

  it('a run of another host is left alone until named with --force', async () => {
    const { dir, t } = await withInterruptedRun();
    await writeRun(dir, 'far-1', interruptedCreate('far-1', 'bold', { pid: 1, host: 'gone-container-3f2a' }));
    expect((await t('workflow', 'recover')).stdout).not.toContain('far-1');
    expect(
      (await t('personality', 'list', '--json')).json<Array<{ id: string }>>().map((p) => p.id),
    ).toContain('bold');
    // A mistyped id is no run of this store: said so, with what it may have meant, and nothing recovered.
    const typo = await t('workflow', 'recover', '--force', 'far-2');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/run "far-2" not found; did you mean "far-1"/);
    expect(
      (await t('personality', 'list', '--json')).json<Array<{ id: string }>>().map((p) => p.id),
    ).toContain('bold');
    const forced = await t('workflow', 'recover', '--force', 'far-1');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Recovered run far-1 (create-personality): compensated');
    expect(
      (await t('personality', 'list', '--json')).json<Array<{ id: string }>>().map((p) => p.id),
    ).not.toContain('bold');
  });

  it('`troupe workflow recover` does it explicitly and prints what it did', async () => {
    const { t } = await withCrashedRun('crashed-3');
    const r = await t('workflow', 'recover');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'Recovered run crashed-3 (create-personality): compensated',
        '  compensated (in this order): personality',
        '  interrupted before it wrote anything (nothing to undo): verify',
        '',
      ].join('\n'),
    );
    expect((await t('personality', 'show', 'bold')).code).toBe(1);
    const again = await t('workflow', 'recover', '--json');
    expect(again.json()).toEqual([]);
    expect((await t('workflow', 'recover')).stdout).toBe('No interrupted runs: nothing to recover\n');
  });

  it('a step caught after it recorded its intent is undone from it, and not called one that wrote nothing', async () => {
    const s = await withInterruptedRun();
    // Killed between the intent and its success: the personality was (maybe) written.
    const events = interruptedCreate('crashed-5', 'bold', { pid: deadPid() });
    const intentAt = events.findIndex((e) => e.kind === 'intent');
    await writeRun(s.dir, 'crashed-5', events.slice(0, intentAt + 1));
    const r = await s.t('workflow', 'recover');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Recovered run crashed-5 (create-personality): compensated',
        '  compensated (in this order): personality',
        '',
      ].join('\n'),
    );
    expect((await s.t('personality', 'show', 'bold')).code).toBe(1);
  });

  it('`workflow recover --json` prints the results', async () => {
    const { t } = await withCrashedRun('crashed-4');
    const r = await t('workflow', 'recover', '--json');
    expect(r.json()).toEqual([
      expect.objectContaining({ runId: 'crashed-4', status: 'compensated', compensated: ['personality'] }),
    ]);
  });
});
