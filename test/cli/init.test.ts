import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, run, snapshot, tempDir } from './helpers.js';

describe('troupe init', () => {
  it('creates the layout, says where, and writes the JSON Schemas', async () => {
    const root = await tempDir();
    const dir = join(root, 'cfg');
    const r = await cli(dir, root)('init');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Initialised a troupe directory at ${dir}`);
    const entries = await readdir(dir);
    for (const d of ['personalities', 'roles', 'agents', 'models', 'resolved', '.troupe'])
      expect(entries).toContain(d);
    expect(JSON.parse(await readFile(join(dir, '.troupe', 'store.json'), 'utf8'))).toEqual({ format: 1 });
    expect((await readdir(join(dir, '.troupe', 'schemas'))).sort()).toEqual([
      'agent.schema.json',
      'bundle.schema.json',
      'model.schema.json',
      'personality.schema.json',
      'role.schema.json',
    ]);
  });

  it('is idempotent: a second run changes nothing and says so', async () => {
    const root = await tempDir();
    const t = cli(join(root, 'cfg'), root);
    await t('init');
    const before = await snapshot(root);
    const r = await t('init', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ dir: join(root, 'cfg'), created: false });
    expect(await snapshot(root)).toEqual(before);
    expect((await t('init')).stdout).toContain('Already a troupe directory');
  });

  it('--json reports the directory, whether it was created and the schema files', async () => {
    const root = await tempDir();
    const r = await cli(join(root, 'x'), root)('init', '--json');
    const out = r.json<{ dir: string; created: boolean; schemas: string[] }>();
    expect(out.created).toBe(true);
    expect(out.schemas).toHaveLength(5);
    expect(r.stderr).toBe('');
  });

  it('--no-schemas leaves .troupe/schemas out', async () => {
    const root = await tempDir();
    await cli(join(root, 'x'), root)('init', '--no-schemas');
    expect(await readdir(join(root, 'x', '.troupe'))).not.toContain('schemas');
  });

  it('uses $TROUPE_HOME, else ./.troupe-config in the working directory', async () => {
    const root = await tempDir();
    expect((await run(['init'], { cwd: root })).code).toBe(0);
    expect((await stat(join(root, '.troupe-config', '.troupe', 'store.json'))).isFile()).toBe(true);
    expect((await run(['init'], { cwd: root, env: { TROUPE_HOME: 'home' } })).code).toBe(0);
    expect((await stat(join(root, 'home', '.troupe', 'store.json'))).isFile()).toBe(true);
    // --dir wins over $TROUPE_HOME
    await run(['--dir', 'flag', 'init'], { cwd: root, env: { TROUPE_HOME: 'home' } });
    expect((await stat(join(root, 'flag', '.troupe', 'store.json'))).isFile()).toBe(true);
  });
});

describe('where the directory is', () => {
  it('is searched upward from the working directory, like git: the nearest .troupe-config/ or troupe directory', async () => {
    const root = await tempDir();
    expect((await run(['init'], { cwd: root })).code).toBe(0);
    const deep = join(root, 'src', 'app', 'deep');
    await mkdir(deep, { recursive: true });
    await run(['personality', 'create', '--preset', 'calm-analyst'], { cwd: root });
    const r = await run(['personality', 'list', '--json'], { cwd: deep });
    expect(r.code).toBe(0);
    expect(r.json<Array<{ id: string }>>().map((p) => p.id)).toEqual(['calm-analyst']);
    // A nearer troupe directory wins: a level that is one itself.
    const inner = join(root, 'src', 'app');
    expect((await run(['--dir', inner, 'init', '--force'], { cwd: root })).code).toBe(0);
    const near = await run(['personality', 'list', '--json'], { cwd: deep });
    expect(near.json()).toEqual([]);
    // $TROUPE_HOME and --dir are taken as given, never searched.
    const home = await run(['personality', 'list', '--json'], { cwd: deep, env: { TROUPE_HOME: 'nowhere' } });
    expect(home.code).toBe(1);
    expect(home.error().code).toBe('NOT_A_TROUPE_DIRECTORY');
  });

  it('says it searched upward when no troupe directory is found', async () => {
    const root = await tempDir();
    const r = await run(['personality', 'list'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no troupe directory here or in any parent of ${root}`);
    expect(r.stderr).toContain('run `troupe init`');
  });

  it('init refuses a non-empty directory that is not a troupe directory unless --force, and changes nothing', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'notes.txt'), 'mine\n');
    const before = await snapshot(root);
    const r = await run(['--dir', root, 'init'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty and is not a troupe directory');
    expect(r.stderr).toContain('--force');
    expect(await snapshot(root)).toEqual(before);
    const forced = await run(['--dir', root, 'init', '--force'], { cwd: root });
    expect(forced.code).toBe(0);
    expect(await readFile(join(root, 'notes.txt'), 'utf8')).toBe('mine\n');
    // Once it is one, init again is fine without --force.
    expect((await run(['--dir', root, 'init'], { cwd: root })).code).toBe(0);
    // An init cut short (its folders, no marker yet) is finished without --force.
    const partial = await tempDir();
    await mkdir(join(partial, '.troupe'), { recursive: true });
    await mkdir(join(partial, 'personalities'));
    expect((await run(['--dir', partial, 'init'], { cwd: partial })).code).toBe(0);
  });

  it('init refuses to create a troupe directory inside another one, which would hide it, and changes nothing', async () => {
    const root = await tempDir();
    const store = join(root, 'cast');
    expect((await run(['--dir', store, 'init'], { cwd: root })).code).toBe(0);
    expect((await run(['personality', 'create', '--preset', 'calm-analyst'], { cwd: store })).code).toBe(0);
    const before = await snapshot(root);
    for (const [cwd, args] of [
      [store, ['init']],
      [join(store, 'personalities'), ['init', '--force']],
      [store, ['--dir', 'agents/sub', 'init']],
    ] as const) {
      const r = await run([...args], { cwd });
      expect(r.code, `${cwd}: ${args.join(' ')}`).toBe(2);
      expect(r.stderr).toContain(`is inside the troupe directory ${store}`);
    }
    expect(await snapshot(root)).toEqual(before);
    const listed = await run(['personality', 'list', '--json'], { cwd: join(store, 'personalities') });
    expect(listed.json<Array<{ id: string }>>().map((p) => p.id)).toEqual(['calm-analyst']);
    // Init of the store itself, again, is still fine.
    expect((await run(['init'], { cwd: root, env: { TROUPE_HOME: store } })).code).toBe(0);
  });

  it('--dir naming a file is a clear usage error for init and for every other command', async () => {
    const root = await tempDir();
    const file = join(root, 'cfg.json');
    await writeFile(file, '{}');
    for (const args of [['init'], ['personality', 'list'], ['validate']]) {
      const r = await run(['--dir', 'cfg.json', ...args], { cwd: root });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('cfg.json is a file, not a directory');
      expect(r.stderr).not.toContain('EEXIST');
    }
    expect(await readFile(file, 'utf8')).toBe('{}');
  });

  it("init's hint repeats the --dir it was given", async () => {
    const root = await tempDir();
    const r = await run(['--dir', 'my cfg', 'init'], { cwd: root });
    expect(r.stdout).toContain("Next: troupe --dir 'my cfg' personality create --preset calm-analyst");
    const plain = await run(['init'], { cwd: await tempDir() });
    expect(plain.stdout).toContain('Next: troupe personality create --preset calm-analyst');
  });
});
