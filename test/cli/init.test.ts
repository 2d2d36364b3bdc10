import { readdir, readFile, stat } from 'node:fs/promises';
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
