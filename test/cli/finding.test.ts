import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, initialised, run, snapshot, write } from './helpers.js';

/** A directory with three agents on two personalities, two roles and two providers. */
async function cast() {
  const { root, dir, t } = await initialised();
  await t('personality', 'create', '--preset', 'calm-analyst');
  await t('personality', 'create', '--preset', 'warm-coach');
  for (const [name, personality, role, model] of [
    ['Ada', 'calm-analyst', 'developer', 'gpt-4o'],
    ['Bo', 'warm-coach', 'teacher', 'gpt-4o'],
    ['Cy', 'calm-analyst', 'teacher', 'claude-sonnet-4'],
  ] as const)
    await t(
      'agent',
      'create',
      '--name',
      name,
      '--personality',
      personality,
      '--role',
      role,
      '--model',
      model,
    );
  return { root, dir, t };
}

const ids = (stdout: string) => stdout.trim().split('\n');

describe('finding things', () => {
  it('agent list filters combine: --personality, --role, --model (any of its names), --provider, --stale', async () => {
    const { t } = await cast();
    expect(ids((await t('agent', 'list', '-o', 'name', '--personality', 'calm-analyst')).stdout)).toEqual([
      'agent/ada',
      'agent/cy',
    ]);
    expect(
      ids(
        (await t('agent', 'list', '-o', 'name', '--role', 'teacher', '--personality', 'calm-analyst')).stdout,
      ),
    ).toEqual(['agent/cy']);
    expect(ids((await t('agent', 'list', '-o', 'name', '--provider', 'anthropic')).stdout)).toEqual([
      'agent/cy',
    ]);
    expect(ids((await t('agent', 'list', '-o', 'name', '--model', 'gpt-4o')).stdout)).toEqual([
      'agent/ada',
      'agent/bo',
    ]);
    expect((await t('agent', 'list', '--stale')).stdout).toBe('No agents match.\n');
  });

  it('--stale lists exactly the agents a hand edit left behind', async () => {
    const { dir, t } = await cast();
    const file = `${dir}/personalities/warm-coach.json`;
    const p = JSON.parse(await readFile(file, 'utf8'));
    p.bigFive.openness = 1;
    await writeFile(file, JSON.stringify(p, null, 2));
    expect(ids((await t('agent', 'list', '--stale', '-o', 'name')).stdout)).toEqual(['agent/bo']);
    const json = (await t('agent', 'list', '--stale', '--json')).json<
      Array<{ id: string; syncStatus: string }>
    >();
    expect(json.map((a) => [a.id, a.syncStatus])).toEqual([['bo', 'stale']]);
  });

  it('-o json and yaml give the same documents; -o wide adds columns; --json wins as -o json', async () => {
    const { t } = await cast();
    const json = JSON.parse((await t('personality', 'list', '-o', 'json')).stdout);
    expect(parse((await t('personality', 'list', '-o', 'yaml')).stdout)).toEqual(json);
    expect(JSON.parse((await t('personality', 'list', '--json')).stdout)).toEqual(json);
    expect(json.map((p: { id: string }) => p.id)).toEqual(['calm-analyst', 'warm-coach']);
    const wide = (await t('agent', 'list', '-o', 'wide')).stdout;
    expect(wide.split('\n')[0]).toMatch(/SYNC\s+DRIFT\s+CONFIGURATION\s+UPDATED/);
    expect((await t('agent', 'list')).stdout.split('\n')[0]).not.toContain('DRIFT');
    expect(ids((await t('role', 'list', '-o', 'name')).stdout)).toContain('role/teacher');
    const bad = await t('agent', 'list', '-o', 'xml');
    expect(bad.code).toBe(2);
  });

  it('diff -f exits 0 when the directory is what the file says, 1 when not, and writes nothing', async () => {
    const { root, dir, t } = await cast();
    await write(root, 'b.json', (await t('export')).stdout);
    const same = await t('diff', '-f', 'b.json');
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('Dry run: 5 unchanged; nothing written');
    const bundle = JSON.parse((await t('export')).stdout);
    bundle.agents[0].name = 'Ada Lovelace';
    await write(root, 'b.json', JSON.stringify(bundle));
    const before = await snapshot(dir);
    const changed = await t('diff', '-f', 'b.json');
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('name: "Ada" → "Ada Lovelace"');
    expect(await snapshot(dir)).toEqual(before);
    const quiet = await t('diff', '-f', 'b.json', '--quiet');
    expect(quiet.stdout).toBe('Dry run: 1 to update, 4 unchanged; nothing written\n');
    expect(quiet.code).toBe(1);
  });

  it('apply --quiet prints the summary line only', async () => {
    const { root, t } = await cast();
    const bundle = JSON.parse((await t('export')).stdout);
    bundle.agents[1].name = 'Bo Peep';
    await write(root, 'b.json', JSON.stringify(bundle));
    const r = await t('apply', '-f', 'b.json', '-q');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Applied b.json: 1 updated, 4 unchanged\n');
  });
});

/** A bundle of 60 personalities as big.json: more changes than fit on a 24-line terminal. */
const writeBig = (root: string) => {
  const personalities = Array.from({ length: 60 }, (_, i) => ({
    id: `p${i}`,
    name: `P${i}`,
    bigFive: { openness: 50, conscientiousness: 50, extraversion: 50, agreeableness: 50, neuroticism: 50 },
  }));
  return write(root, 'big.json', JSON.stringify({ personalities }));
};

describe('a big apply on a terminal', () => {
  it('prints the summary, not a line per field; piped or with --dry-run it prints every change', async () => {
    const { root, dir } = await initialised();
    await writeBig(root);
    const dry = await cli(dir, root, true)('apply', '-f', 'big.json', '--dry-run');
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('create ')).length).toBe(60);
    const tty = await cli(dir, root, true)('apply', '-f', 'big.json');
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).not.toContain('create    personality p0');
    expect(tty.stdout).toContain('60 entities; `--dry-run` lists each change');
    expect(tty.stdout).toContain('Applied big.json: 60 created');
    // Instead of a line per step, one progress bar on stderr, redrawn in place, then erased.
    expect(tty.stderr).not.toContain('▶');
    const frames = tty.stderr.split('\r\x1b[2K').filter(Boolean);
    expect(frames[0]).toMatch(/^big\.json: 60 entities \[·{24}\] 0\/3 steps {2}plan$/);
    expect(frames.at(-1)).toMatch(/^big\.json: 60 entities \[█{24}\] 3\/3 steps {2}verify$/);
    expect(tty.stderr.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('"big" is what does not fit on the terminal: a tall one lists every change', async () => {
    const { root, dir } = await initialised();
    await writeBig(root);
    const tall = await run(['--dir', dir, 'apply', '-f', 'big.json'], { cwd: root, isTTY: true, rows: 500 });
    expect(tall.code, tall.stderr).toBe(0);
    expect(tall.stdout.split('\n').filter((l) => l.startsWith('create ')).length).toBe(60);
    expect(tall.stderr).toContain('  ▶ persist (file.persist) started');
    expect(tall.stderr).not.toContain('\x1b[2K');
  });
});
