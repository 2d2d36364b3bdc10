import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from './store.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a PGlite directory serves one process at a time', () => {
  it('a second open is refused with LOCK_FAILED; one a dead process left is taken over; close frees it', async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'troupe-pglite-')), 'db');
    const first = await PostgresStore.pglite(dir);
    await expect(PostgresStore.pglite(dir)).rejects.toMatchObject({
      code: 'LOCK_FAILED',
      message: expect.stringContaining('is open in this process'),
    });
    await first.put('models', { id: 'kept' });
    // Its files are PGlite's (mode 0666); its directory is its owner's alone.
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await first.close();
    // A lock file of a process that is gone (pid 2^22 - 1 is above Linux's default pid_max).
    await writeFile(join(dir, 'troupe.lock'), JSON.stringify({ pid: 4_194_303, host: hostname() }));
    const again = await PostgresStore.pglite(dir);
    expect((await again.get('models', 'kept'))?.revision).toBe(1);
    await again.close();
  }, 60_000);
});

describe('the PGlite directory lock, raced by processes', () => {
  it('is held by one process at a time, though each takes it over from a dead one and releases it 100 times', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-pglite-lock-'));
    const lock = join(process.cwd(), 'dist', 'postgres', 'pglite-lock.js');
    const log = join(dir, 'holds.log');
    const child = join(dir, 'child.mjs');
    // Each process takes the lock, notes when it held it, and lets it go; one in three leaves a
    // lock of a dead process behind first (pid 2^22 - 1: above Linux's pid_max).
    await writeFile(
      child,
      `import { appendFileSync, linkSync, mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import { lockPgliteDir } from ${JSON.stringify(lock)};
const [dir, log] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
for (let i = 0; i < 100; i++) {
  if (i % 3 === 0) {
    const t = dir + '/dead.' + process.pid;
    writeFileSync(t, JSON.stringify({ pid: 4194303, host: ${JSON.stringify(hostname())} }));
    try { linkSync(t, dir + '/troupe.lock'); } catch {}
    unlinkSync(t);
  }
  let release;
  while (!release)
    try { release = lockPgliteDir(dir); } catch (e) { if (e.code !== 'LOCK_FAILED') throw e; }
  const from = process.hrtime.bigint();
  for (let k = 0; k < 20000; k++) Math.sqrt(k);
  appendFileSync(log, from + ' ' + process.hrtime.bigint() + '\\n');
  release();
}
`,
    );
    const { spawn } = await import('node:child_process');
    const codes = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<number | null>((done) =>
            spawn(process.execPath, [child, join(dir, 'db'), log], { stdio: 'inherit' }).on('exit', done),
          ),
      ),
    );
    expect(codes).toEqual([0, 0, 0, 0]);
    const { readFile } = await import('node:fs/promises');
    const holds = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(BigInt) as [bigint, bigint])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(holds.length).toBe(400);
    // hrtime is one clock for every process of the machine: no hold begins before the last ended.
    let end = 0n;
    const overlapping = holds.filter(([from, to]) => {
      const overlaps = from < end;
      if (to > end) end = to;
      return overlaps;
    });
    expect(overlapping).toEqual([]);
  }, 120_000);
});

describe('PostgresStore.connect by URL', () => {
  it('opens pglite:PATH as the embedded database, and refuses any other scheme rather than dial a server', async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'troupe-pglite-')), 'db');
    const store = await PostgresStore.connect(`pglite:${dir}`);
    await store.put('models', { id: 'here' });
    await store.close();
    const again = await PostgresStore.pglite(dir);
    expect((await again.get('models', 'here'))?.revision).toBe(1);
    await again.close();
    for (const url of ['mysql://u@h/db', '/tmp/somewhere', 'file:/tmp/x', '', 'pglite:'])
      await expect(PostgresStore.connect(url), url).rejects.toMatchObject({ code: 'USAGE' });
    // A path that is a file is named as one, not a raw EEXIST.
    const file = join(dir, 'PG_VERSION');
    await expect(PostgresStore.connect(`pglite:${file}`)).rejects.toMatchObject({
      code: 'USAGE',
      message: `pglite:${file} is a file, not a directory: pglite:PATH names the directory of an embedded database`,
    });
  }, 60_000);
});
