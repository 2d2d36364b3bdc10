import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { seeded, tempDir } from './helpers.js';

const execFileAsync = promisify(execFile);

// A symbolic link committed to a cloned config repository (or made by mistake) must never let
// troupe read, write, truncate or delete anything outside its directory.

async function outside() {
  const dir = await tempDir();
  const file = join(dir, 'precious.txt');
  await writeFile(file, 'precious content\n');
  return { dir, file };
}

describe('symbolic links inside the configuration directory', () => {
  it.each(['.troupe/journal', '.troupe/lock'])(
    '%s as a link: every command refuses, the target is untouched',
    async (part) => {
      const { dir, t } = await seeded();
      const target = await outside();
      await rm(join(dir, part), { force: true });
      await symlink(target.file, join(dir, part));
      for (const args of [
        ['personality', 'list'],
        ['personality', 'update', 'calm', '--trait', 'humor=1'],
      ]) {
        const r = await t(...args);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${part} is a symbolic link`);
        expect(r.stderr).toContain('replace it with a regular file');
      }
      expect(await readFile(target.file, 'utf8')).toBe('precious content\n');
    },
  );

  it('.troupe/schemas as a link: init and schema refuse it, nothing is written where it points', async () => {
    const { dir, t } = await seeded();
    const target = await outside();
    const theirs = join(target.dir, 'agent.schema.json');
    await writeFile(theirs, 'their own\n');
    await rm(join(dir, '.troupe/schemas'), { recursive: true, force: true });
    await symlink(target.dir, join(dir, '.troupe/schemas'));
    for (const args of [['init'], ['schema']]) {
      const r = await t(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain('.troupe/schemas is a symbolic link');
    }
    expect(await readFile(theirs, 'utf8')).toBe('their own\n');
  });

  it('a dangling .troupe/lock link is refused at once, never waited on', async () => {
    const { dir, t } = await seeded();
    await rm(join(dir, '.troupe/lock'), { force: true });
    await symlink(join(dir, 'nowhere', 'lock'), join(dir, '.troupe/lock'));
    const r = await t('personality', 'update', 'calm', '--trait', 'humor=1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('.troupe/lock is a symbolic link');
  });

  it('a kind folder as a link is refused', async () => {
    const { dir, t } = await seeded();
    const target = await outside();
    await rm(join(dir, 'roles'), { recursive: true });
    await symlink(target.dir, join(dir, 'roles'));
    const r = await t('role', 'list');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('roles is a symbolic link');
    expect(r.stderr).toContain('replace it with a regular folder');
  });

  it('a backup folder as a link: the update is refused before anything is written, nothing outside is deleted', async () => {
    const { dir, t } = await seeded();
    const target = await outside();
    for (let i = 1; i <= 8; i++) await writeFile(join(target.dir, `${i}.json`), '{}');
    const link = join(dir, '.troupe/backups/personalities/calm');
    await rm(link, { recursive: true, force: true });
    await mkdir(join(dir, '.troupe/backups/personalities'), { recursive: true });
    await symlink(target.dir, link);
    const before = await readFile(join(dir, 'personalities/calm.json'), 'utf8');
    const r = await t('personality', 'update', 'calm', '--trait', 'humor=3');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('.troupe/backups/personalities/calm is a symbolic link');
    expect(r.stderr).toContain('replace it with a regular folder');
    expect(await readFile(join(dir, 'personalities/calm.json'), 'utf8')).toBe(before);
    for (let i = 1; i <= 8; i++) expect(await readFile(join(target.dir, `${i}.json`), 'utf8')).toBe('{}');
  });

  it('an entity file as a link is never read through: list warns, show refuses, the target stays unseen', async () => {
    const { dir, t } = await seeded();
    const target = await outside();
    await writeFile(target.file, JSON.stringify({ id: 'evil', name: 'SECRET-CONTENT-FROM-OUTSIDE' }));
    await symlink(target.file, join(dir, 'personalities/evil.json'));
    const list = await t('personality', 'list');
    expect(list.code).toBe(0);
    expect(list.stderr).toContain(
      'warning: personalities/evil.json: ignored: a symbolic link: troupe never follows links',
    );
    const show = await t('personality', 'show', 'evil');
    expect(show.code).toBe(1);
    for (const r of [list, show, await t('export'), await t('validate')])
      expect(r.stdout + r.stderr).not.toContain('SECRET-CONTENT-FROM-OUTSIDE');
  });

  it.each([
    ['a link', (f: string) => symlink('/etc/hostname', f)],
    ['a folder', (f: string) => mkdir(f)],
    ['a FIFO', (f: string) => execFileAsync('mkfifo', [f]).then(() => undefined)],
  ])(
    'a personality whose file is %s makes its agents broken in a listing, never fails it',
    async (_, make) => {
      const { dir, t } = await seeded();
      await rm(join(dir, 'personalities/calm.json'));
      await make(join(dir, 'personalities/calm.json'));
      const list = await t('--json', 'agent', 'list');
      expect(list.code).toBe(0);
      const agents = list.json<Array<{ id: string; syncStatus: string; drift: string[] }>>();
      expect(agents.map((a) => [a.id, a.syncStatus])).toEqual([
        ['ada', 'broken'],
        ['otto', 'broken'],
      ]);
      expect(agents[0]!.drift[0]).toMatch(/^personalities\/calm\.json: \(file\): is a/);
      const plain = await t('agent', 'list');
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/ada .*broken/);
    },
  );

  it('an export or a migration that would leave out an entity (its file a link, a FIFO, a folder) is refused naming it', async () => {
    const { dir, t } = await seeded();
    await rm(join(dir, 'personalities/calm.json'));
    await symlink('/etc/hostname', join(dir, 'personalities/calm.json'));
    const e = await t('export');
    expect([e.code, e.stdout]).toEqual([1, '']);
    expect(e.stderr).toMatch(/would leave out personalities\/calm\.json \(a symbolic link/);
    const to = await tempDir();
    await t('init', '--dir', to);
    const m = await t('migrate', '--to', to);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('would leave out personalities/calm.json');
    // An editor's backup beside them is no entity left out.
    await rm(join(dir, 'personalities/calm.json'));
    await writeFile(join(dir, 'roles/reviewer.json~'), '{}');
    expect((await t('export')).stderr).not.toContain('would leave out');
  });
});
