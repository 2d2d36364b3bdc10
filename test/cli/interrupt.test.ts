import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { snapshot, tempDir } from './helpers.js';

// dist/ and the bundle are built once for every test file by test/global-build.ts.
const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));
const env = { ...process.env, TROUPE_HOME: '', TROUPE_COMPILE_CACHE: 'off' };

describe('Ctrl-C', () => {
  it('stops a change waiting for another writer: exit 130, nothing written, the next command runs', async () => {
    const dir = join(await tempDir(), 'cfg');
    expect(spawnSync(process.execPath, [bin, '--dir', dir, 'init'], { env }).status).toBe(0);
    // Another troupe process holds the store's lock (a live process, named in the lock file).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const startTime = readFileSync(`/proc/${holder.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
    const lock = join(dir, '.troupe', 'lock');
    writeFileSync(
      lock,
      JSON.stringify({
        pid: holder.pid,
        host: hostname(),
        token: 't',
        since: Date.now(),
        started: startTime,
      }),
    );
    const before = await snapshot(dir);
    try {
      const create = spawn(
        process.execPath,
        [bin, '--dir', dir, 'personality', 'create', '--preset', 'calm-analyst'],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      create.stderr.on('data', (d) => {
        stderr += d;
      });
      // Once it is waiting for the lock (its run has started), the user presses Ctrl-C.
      const runs = join(dir, '.troupe', 'runs');
      const started = () => existsSync(runs) && readdirSync(runs).some((name) => name.endsWith('.jsonl'));
      for (let i = 0; i < 1000 && !started(); i++) await new Promise((r) => setTimeout(r, 10));
      create.kill('SIGINT');
      const [code] = await once(create, 'exit');
      expect(code).toBe(130);
      expect(stderr).toBe(
        'error: cancelled: interrupted (Ctrl-C) before the change was committed; nothing was written\n',
      );
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    // Nothing but the run log of the stopped run changed.
    const after = await snapshot(dir);
    const entities = (s: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(s).filter(([k]) => !k.startsWith('.troupe/runs/') && !k.startsWith('.troupe/lock')),
      );
    expect(entities(after)).toEqual(entities(before));
    const next = spawnSync(
      process.execPath,
      [bin, '--dir', dir, 'personality', 'create', '--preset', 'calm-analyst'],
      {
        env,
        encoding: 'utf8',
      },
    );
    expect([next.status, next.stderr]).toEqual([0, '']);
  });
});
