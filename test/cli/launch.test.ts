import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cacheDir, commandWord } from '../../src/cli/launch.js';
import { commandsFor } from '../../src/cli/main.js';
import { tempDir } from './helpers.js';

// dist/ and the bundle are built once for every test file by test/global-build.ts.
const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));

const troupe = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TROUPE_HOME: '', ...env },
  });

async function withConfig() {
  const root = await tempDir();
  const dir = join(root, 'cfg');
  const off = { TROUPE_COMPILE_CACHE: 'off' };
  expect(troupe(['--dir', dir, 'init'], off).status).toBe(0);
  expect(troupe(['--dir', dir, 'personality', 'create', '--preset', 'calm-analyst'], off).status).toBe(0);
  return { root, dir };
}

describe('start-up: the bundled CLI with a code cache', () => {
  it('saves one cache per command word and prints the same with, without and from the cache', async () => {
    const { root, dir } = await withConfig();
    const cache = join(root, 'cache');
    const list = ['--dir', dir, 'personality', 'list', '--json'];
    const plain = troupe(list, { TROUPE_COMPILE_CACHE: 'off' });
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject([{ id: 'calm-analyst' }]);

    const first = troupe(list, { TROUPE_COMPILE_CACHE: cache });
    const files = await readdir(cache);
    expect(files).toEqual([expect.stringMatching(/^[0-9a-f]{20}-personality\.bin$/)]);
    const second = troupe(list, { TROUPE_COMPILE_CACHE: cache });
    for (const r of [first, second]) expect([r.status, r.stdout, r.stderr]).toEqual([0, plain.stdout, '']);

    expect(troupe(['--dir', dir, 'validate'], { TROUPE_COMPILE_CACHE: cache }).status).toBe(0);
    expect((await readdir(cache)).sort()).toEqual(
      [...files, files[0]?.replace('personality', 'validate')].sort(),
    );
    expect((await stat(join(cache, files[0] as string))).mode & 0o077).toBe(0);
  });

  it('a damaged cache file is rejected and rewritten, and the command runs as without it', async () => {
    const { root, dir } = await withConfig();
    const cache = join(root, 'cache');
    const list = ['--dir', dir, 'personality', 'list'];
    expect(troupe(list, { TROUPE_COMPILE_CACHE: cache }).status).toBe(0);
    const [file] = await readdir(cache);
    const path = join(cache, file as string);
    const damaged = Buffer.from('not compiled code at all');
    await writeFile(path, damaged);
    const r = troupe(list, { TROUPE_COMPILE_CACHE: cache });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('calm-analyst');
    const rewritten = await readFile(path);
    expect(rewritten.equals(damaged)).toBe(false);
    expect(rewritten.length).toBeGreaterThan(10_000);
  });

  it('never uses a cache directory others may write to, and runs without it', async () => {
    const { root, dir } = await withConfig();
    const shared = join(root, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o777);
    expect(cacheDir({ TROUPE_COMPILE_CACHE: shared })).toBeUndefined();
    const r = troupe(['--dir', dir, 'personality', 'list'], { TROUPE_COMPILE_CACHE: shared });
    expect(r.status).toBe(0);
    expect(await readdir(shared)).toEqual([]);
    expect(cacheDir({ TROUPE_COMPILE_CACHE: 'off' })).toBeUndefined();
    expect(cacheDir({ TROUPE_COMPILE_CACHE: join(root, 'mine') })).toBe(join(root, 'mine'));
    // A cache path that cannot be a directory: no cache, same command.
    const file = join(root, 'a-file');
    await writeFile(file, '');
    expect(cacheDir({ TROUPE_COMPILE_CACHE: file })).toBeUndefined();
    expect(troupe(['--dir', dir, 'personality', 'list'], { TROUPE_COMPILE_CACHE: file }).status).toBe(0);
  });

  it('keys the cache by command word, skipping global options', () => {
    expect(commandWord(['--dir', 'x', 'personality', 'list'])).toBe('personality');
    expect(commandWord(['--json', 'agent', 'show', 'ada'])).toBe('agent');
    expect(commandWord(['--version'])).toBe('none');
    expect(commandWord(['../../etc'])).toBe('other');
  });

  it('loads only the command file its word names; help and unknown words load them all', () => {
    const words = (argv: string[]) => commandsFor(argv).flatMap((c) => c.words);
    expect(words(['--dir', 'personality', 'role', 'list'])).toEqual(['role']);
    expect(words(['diff', '-f', 'b.yaml'])).toEqual(['apply', 'diff']);
    expect(words(['--version'])).toEqual([]);
    const all = words(['--help']);
    expect(all).toContain('personality');
    expect(all).toContain('workflow');
    expect(words(['help', 'agent'])).toEqual(all);
    expect(words(['personalty'])).toEqual(all);
  });
});
