import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, initialised, seeded, snapshot, write } from './helpers.js';

interface BundleOut {
  personalities: Array<{ id: string }>;
  roles: Array<{ id: string }>;
  models: unknown[];
  agents: Array<{ id: string; model: { temperature: number } }>;
}

describe('troupe export / import', () => {
  it('exports the bundle as JSON on stdout', async () => {
    const { t } = await seeded();
    const r = await t('export');
    expect(r.code).toBe(0);
    const b = r.json<BundleOut>();
    expect(b.personalities.map((p) => p.id)).toEqual(['calm']);
    expect(b.roles.map((p) => p.id)).toEqual(['reviewer']);
    expect(b.agents.map((p) => p.id)).toEqual(['ada', 'otto']);
    expect(b.agents[0]).not.toHaveProperty('revision');
    expect(b.agents[0]).not.toHaveProperty('configurationHash');
  });

  it('exports YAML to a .yaml file and JSON to a .json file', async () => {
    const { root, t } = await seeded();
    const r = await t('export', '-o', 'cast.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exported 1 personality, 1 role, 0 models and 2 agents to cast.yaml');
    const y = parse(await readFile(join(root, 'cast.yaml'), 'utf8')) as BundleOut;
    expect(y.agents).toHaveLength(2);
    const j = await t('export', '--output', 'cast.json', '--json');
    expect(j.json()).toMatchObject({ counts: { personalities: 1, roles: 1, models: 0, agents: 2 } });
    expect(JSON.parse(await readFile(join(root, 'cast.json'), 'utf8'))).toEqual(y);
  });

  it('round-trips into a new directory, then reports everything unchanged', async () => {
    const { root, t } = await seeded();
    await t('export', '-o', 'cast.yaml');
    const t2 = cli(join(root, 'other'), root);
    await t2('init');
    const r = await t2('import', 'cast.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Imported cast.yaml: 4 created');
    const again = await t2('import', 'cast.yaml');
    expect(again.stdout).toContain('4 unchanged');
    expect((await t2('validate')).stdout).toBe('valid\n');
  });

  it('--dry-run prints the field-by-field diff and writes nothing', async () => {
    const { root, dir, t } = await seeded();
    const b = (await t('export')).json<BundleOut>();
    b.agents[0]!.model.temperature = 0.5;
    b.personalities.push({
      id: 'bold',
      name: 'Bold',
      bigFive: { openness: 90, conscientiousness: 40, extraversion: 80, agreeableness: 40, neuroticism: 30 },
    } as never);
    await write(root, 'next.json', JSON.stringify(b));
    const before = await snapshot(dir);
    const r = await t('import', 'next.json', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create    personality bold');
    expect(r.stdout).toContain('    bigFive.openness: (unset) → 90');
    expect(r.stdout).toContain('update    agent ada');
    expect(r.stdout).toContain('    model.temperature: 0.3 → 0.5');
    expect(r.stdout).toContain('unchanged agent otto');
    expect(r.stdout).toContain('Dry run: 1 to create, 1 to update, 3 unchanged; nothing written');
    expect(await snapshot(dir)).toEqual(before);
    const j = (await t('import', 'next.json', '--dry-run', '--json')).json<{
      applied: boolean;
      changes: unknown[];
    }>();
    expect(j.applied).toBe(false);
    expect(j.changes).toContainEqual({
      kind: 'agent', // as every command's JSON spells a kind
      id: 'ada',
      action: 'update',
      changes: [{ path: 'model.temperature', from: 0.3, to: 0.5 }],
    });
  });

  it('--prune deletes what the bundle leaves out', async () => {
    const { root, t } = await seeded();
    const b = (await t('export')).json<BundleOut>();
    b.agents = b.agents.filter((a) => a.id === 'ada');
    await write(root, 'less.json', JSON.stringify(b));
    const r = await t('import', 'less.json', '--prune');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('delete    agent otto');
    expect((await t('agent', 'list', '--json')).json<unknown[]>()).toHaveLength(1);
  });

  it('a bundle with problems applies nothing and lists each problem with its path', async () => {
    const { root, dir, t } = await seeded();
    const b = (await t('export')).json<BundleOut>();
    (b.agents[0] as Record<string, unknown>).roleId = 'nobody';
    b.agents[1]!.model.temperature = 7;
    b.personalities.push({ id: 'new-one', name: 'New', bigFive: {} } as never);
    await write(root, 'bad.json', JSON.stringify(b));
    const before = await snapshot(dir);
    const r = await t('import', 'bad.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing applied');
    expect(r.stderr).toContain('agents[0].roleId: role "nobody"');
    expect(r.stderr).toContain('agents[1].model.temperature');
    expect(r.stderr).toContain('personalities[1].bigFive.openness');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('import of a file that is not a bundle is an error', async () => {
    const { root, t } = await initialised();
    await write(root, 'x.json', '{"agentz": []}');
    const r = await t('import', 'x.json', '--json');
    expect(r.code).toBe(1);
    expect(r.error().code).toBe('VALIDATION_FAILED');
  });
});
