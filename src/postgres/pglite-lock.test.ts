import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
    await first.close();
    // A lock file of a process that is gone (pid 2^22 - 1 is above Linux's default pid_max).
    await writeFile(join(dir, 'troupe.lock'), JSON.stringify({ pid: 4_194_303, host: hostname() }));
    const again = await PostgresStore.pglite(dir);
    expect((await again.get('models', 'kept'))?.revision).toBe(1);
    await again.close();
  }, 60_000);
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
