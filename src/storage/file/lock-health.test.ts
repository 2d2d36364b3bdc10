import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTimeOf } from '../../platform/liveness.js';
import { FileStore } from './store.js';

// Locks that heal: a holder that is gone (killed, a zombie, a reused pid) never blocks writes,
// a live one always does, and a holder whose lock was taken over never commits.

const dirs: string[] = [];
const children: Array<() => void> = [];
afterEach(async () => {
  for (const stop of children.splice(0)) stop();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function store(opts = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-lock-'));
  dirs.push(dir);
  return { dir, store: await FileStore.init(dir, { lockTimeoutMs: 1500, ...opts }) };
}

/** A process that stays alive; its pid and start time. */
function live(): Promise<{ pid: number; started: string | undefined }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(() => child.kill('SIGKILL'));
  return new Promise((resolve) =>
    child.on('spawn', () => resolve({ pid: child.pid!, started: startTimeOf(child.pid!) })),
  );
}

/** The pid of a zombie: a child of `sleep 30` that has exited and that nobody reaps. */
function zombie(): Promise<number> {
  const child = spawn('bash', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(() => child.kill('SIGKILL'));
  return new Promise((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
  );
}

const lockAs = (dir: string, owner: Record<string, unknown>) =>
  writeFile(
    join(dir, '.troupe', 'lock'),
    JSON.stringify({ host: hostname(), token: 'someone-else', since: Date.now(), ...owner }),
  );

describe('the store lock', () => {
  it('a live holder blocks writes until the deadline, then LOCK_FAILED names it', async () => {
    const { dir, store: s } = await store();
    const holder = await live();
    await lockAs(dir, holder);
    await expect(s.put('roles', { id: 'r' })).rejects.toMatchObject({ code: 'LOCK_FAILED' });
    expect(await s.get('roles', 'r')).toBeUndefined();
  });

  it('a reused pid (a live process that started at another time) does not hold it', async () => {
    const { dir, store: s } = await store();
    const other = await live();
    await lockAs(dir, { pid: other.pid, started: '1' });
    await expect(s.put('roles', { id: 'r' })).resolves.toMatchObject({ revision: 1 });
  });

  it.each([
    ['pid 0 (a process group)', { pid: 0, started: '1' }],
    ['pid -1 (every process)', { pid: -1, started: '1' }],
  ] as const)('%s does not hold it', async (_, owner) => {
    const { dir, store: s } = await store();
    await lockAs(dir, owner);
    await expect(s.put('roles', { id: 'r' })).resolves.toMatchObject({ revision: 1 });
  });

  it('a zombie holder (exited, not reaped) does not hold it', async () => {
    const { dir, store: s } = await store();
    const pid = await zombie();
    for (let i = 0; i < 100 && !(await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z '); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await readFile(`/proc/${pid}/stat`, 'utf8')).toContain(') Z ');
    await lockAs(dir, { pid });
    await expect(s.put('roles', { id: 'r' })).resolves.toMatchObject({ revision: 1 });
  });

  it('a holder whose lock was taken over refuses to commit, and wrote nothing', async () => {
    let takeOver: (() => Promise<void>) | undefined;
    const { dir, store: s } = await store({ hooks: { beforeCommitPoint: () => takeOver?.() } });
    await s.put('roles', { id: 'r', v: 1 });
    const holder = await live();
    takeOver = () => lockAs(dir, holder);
    await expect(s.put('roles', { id: 'r', v: 2 })).rejects.toMatchObject({ code: 'LOCK_FAILED' });
    takeOver = undefined;
    await rm(join(dir, '.troupe', 'lock'));
    expect(await s.get('roles', 'r')).toMatchObject({ v: 1, revision: 1 });
  });
});
