import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { postgresUnavailable } from '../../src/postgres/test-db.test-helper.js';
import { castDir, troupe } from '../races/processes.js';

const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));
const engines: Array<'file' | 'postgres'> = [
  'file',
  ...((await postgresUnavailable()) ? [] : ['postgres' as const]),
];

/** `troupe watch --json` as a real process: its lines so far, and a wait for the next ones. */
function watchProcess(where: string, extra: string[] = []) {
  const flag = where.startsWith('postgres://') ? '--store' : '--dir';
  const p = spawn(process.execPath, [bin, flag, where, 'watch', '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TROUPE_HOME: '' },
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const until = async (ok: () => boolean, what: string) => {
    for (let i = 0; i < 1500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!ok()) throw new Error(`never saw ${what}; stdout: ${out}; stderr: ${err}`);
  };
  const events = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map(
        (l) => JSON.parse(l) as { type: string; op?: string; kind?: string; id?: string; revision?: number },
      );
  return {
    p,
    events,
    stderr: () => err,
    ready: () => until(() => err.includes('watching for changes'), 'it ready'),
    until,
  };
}

describe.each(engines.map((e) => [e]))('troupe watch (%s store)', (engine) => {
  it('prints each change another process commits, one JSON line each, and Ctrl-C ends it with exit 0', async () => {
    const where = await castDir(1, engine);
    const w = watchProcess(where);
    await w.ready();
    const upd = await troupe(where, ['personality', 'update', 'hub', '--trait', 'humor=9', '--json']);
    expect(upd.code, upd.stderr).toBe(0);
    // The cascade re-composed the agent and its resolved file in the same commit.
    await w.until(() => w.events().length >= 3, 'three changes');
    const seen = w.events().map((e) => `${e.op} ${e.kind}/${e.id} r${e.revision}`);
    expect(seen).toEqual(
      expect.arrayContaining(['put personalities/hub r2', 'put agents/a0 r2', 'put resolved/a0 r2']),
    );
    const failed = await troupe(where, [
      'personality',
      'update',
      'hub',
      '--expect-revision',
      '1',
      '--trait',
      'humor=1',
    ]);
    expect(failed.code).toBe(1);
    const role = await troupe(where, [
      'role',
      'create',
      '--id',
      'later',
      '--name',
      'Later',
      '--from-template',
      'developer',
    ]);
    expect(role.code, role.stderr).toBe(0);
    await w.until(() => w.events().some((e) => e.id === 'later'), 'the role');
    // Nothing from the refused update: it wrote nothing.
    expect(w.events().filter((e) => e.kind === 'personalities')).toHaveLength(1);
    w.p.kill('SIGINT');
    const [code] = await once(w.p, 'exit');
    expect(code).toBe(0);
  }, 60_000);
});

describe('troupe watch --json on stderr', () => {
  it('says what it warns of at start, before it is ready, one JSON line each, and nothing else', async () => {
    const where = await castDir(0, 'file');
    await writeFile(join(where, 'personalities', 'notes.txt'), 'a note left here\n');
    const w = watchProcess(where);
    await w.ready();
    const lines = w.stderr().trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { warnings: [{ message: expect.stringContaining('personalities/notes.txt: ignored') }] },
      { notice: 'watching for changes (Ctrl-C to stop)' },
    ]);
    w.p.kill('SIGINT');
    const [code] = await once(w.p, 'exit');
    expect(code).toBe(0);
    // Said once: not again when it ends.
    expect(w.stderr().trim().split('\n')).toEqual(lines);
  }, 30_000);
});

describe('troupe watch beside a file broken by hand', () => {
  it('watches all the same, and tells of the changes made then', async () => {
    const where = await castDir(1, 'file');
    await writeFile(join(where, 'personalities', 'hand.json'), '{"garbage');
    const w = watchProcess(where);
    await w.ready();
    const upd = await troupe(where, ['personality', 'update', 'hub', '--trait', 'humor=9']);
    expect(upd.code, upd.stderr).toBe(0);
    await w.until(() => w.events().some((e) => e.kind === 'personalities' && e.id === 'hub'), 'the update');
    w.p.kill('SIGINT');
    const [code] = await once(w.p, 'exit');
    expect(code).toBe(0);
  }, 30_000);
});

describe('troupe watch --from', () => {
  it('refuses a position that is not a whole number, naming it', async () => {
    const where = await castDir(0, 'file');
    for (const from of ['yesterday', '0x10', '1e3', '', '-1', '99999999999999999999']) {
      const r = await troupe(where, ['watch', '--from', from]);
      expect(r.code, from).toBe(2);
      expect(r.stderr).toContain(
        `--from must be a whole number (a position the feed printed), got "${from}"`,
      );
    }
  });
});
