import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Personality } from '../../src/domain/personality.js';
import { calmYaml, cli, initialised, seeded, tempDir, write } from './helpers.js';

describe('troupe personality', () => {
  it('creates from a preset with traits overriding it, in --json the stored document', async () => {
    const { dir, t } = await initialised();
    const r = await t(
      'personality',
      'create',
      '--preset',
      'calm-analyst',
      '--trait',
      'openness=90',
      '--trait',
      'humor=75',
      '--json',
    );
    expect(r.code).toBe(0);
    const p = r.json<Personality>();
    expect(p).toMatchObject({ id: 'calm-analyst', name: 'Calm Analyst', revision: 1 });
    expect(p.bigFive.openness).toBe(90);
    expect(p.bigFive.conscientiousness).toBe(85);
    expect(p.behaviors.humor).toBe(75);
    const stored = JSON.parse(await readFile(join(dir, 'personalities', 'calm-analyst.json'), 'utf8'));
    expect(stored).toEqual(p);
  });

  it('a new name on a preset gives a new id', async () => {
    const { t } = await initialised();
    const r = await t('personality', 'create', '--preset', 'warm-coach', '--name', 'My Coach');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created personality my-coach (My Coach)');
  });

  it('creates from flags alone', async () => {
    const { t } = await initialised();
    const traits = [
      'openness=1',
      'conscientiousness=2',
      'extraversion=3',
      'agreeableness=4',
      'neuroticism=5',
    ];
    const r = await t(
      'personality',
      'create',
      '--name',
      'Plain',
      '--description',
      'd',
      ...traits.flatMap((x) => ['--trait', x]),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Created personality plain (Plain) → personalities/plain.json\n');
  });

  it('creates from a YAML file with flags winning over its fields', async () => {
    const { root, t } = await initialised();
    await write(root, 'calm.yaml', calmYaml);
    const r = await t(
      'personality',
      'create',
      '--from',
      'calm.yaml',
      '--name',
      'Calmer',
      '--trait',
      'neuroticism=5',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      id: 'calm',
      name: 'Calmer',
      bigFive: { neuroticism: 5, openness: 60 },
      behaviors: { humor: 20 },
    });
  });

  it('lists in a table and as JSON', async () => {
    const { t } = await seeded();
    const r = await t('personality', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+REVISION$/);
    expect(r.stdout).toMatch(/calm\s+Calm\s+1/);
    const j = await t('personality', 'list', '--json');
    expect(j.json<Array<{ id: string }>>().map((p) => p.id)).toEqual(['calm']);
  });

  it('shows a readable summary, and the stored document with --json', async () => {
    const { t } = await seeded();
    const r = await t('personality', 'show', 'calm');
    expect(r.stdout).toContain('Calm (calm), revision 1');
    expect(r.stdout).toMatch(/openness\s+60/);
    expect(r.stdout).toMatch(/humor\s+20/);
    const j = (await t('personality', 'show', 'calm', '--json')).json();
    expect(j).toMatchObject({ id: 'calm', revision: 1, bigFive: { openness: 60 } });
  });

  it('updates from a merge patch file and flags; agents using it are reported', async () => {
    const { root, t } = await seeded();
    await write(root, 'patch.json', JSON.stringify({ behaviors: { humor: null }, description: 'steady' }));
    const r = await t('personality', 'update', 'calm', '--from', 'patch.json', '--trait', 'openness=65');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Updated personality calm to revision 2');
    expect(r.stdout).toMatch(/ada, otto/);
    const p = (await t('personality', 'show', 'calm', '--json')).json<Personality>();
    expect(p).toMatchObject({ revision: 2, description: 'steady', bigFive: { openness: 65 } });
    expect(p.behaviors.humor).toBeUndefined();
  });

  it('--expect-revision refuses a stale write (exit 1) and accepts the current one', async () => {
    const { t } = await seeded();
    const bad = await t('personality', 'update', 'calm', '--name', 'X', '--expect-revision', '5', '--json');
    expect(bad.code).toBe(1);
    expect(bad.error()).toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
    expect((await t('personality', 'update', 'calm', '--name', 'X', '--expect-revision', '1')).code).toBe(0);
  });

  it('an update without anything to change is a usage error', async () => {
    const { dir, t } = await seeded();
    const r = await t('personality', 'update', 'calm');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing to update: give --from FILE');
    // An empty --from file is named as such, not asked for.
    await write(dir, 'empty.json', '{}');
    for (const noun of ['personality', 'agent', 'models']) {
      const id = { personality: 'calm', agent: 'ada', models: 'gpt-4o' }[noun]!;
      const e = await t(noun, 'update', id, '--from', join(dir, 'empty.json'));
      expect(e.code, noun).toBe(2);
      expect(e.stderr).toContain('empty.json is an empty patch ({})');
    }
  });

  it('deletes an unused personality', async () => {
    const { t } = await initialised();
    await t('personality', 'create', '--preset', 'warm-coach');
    const r = await t('personality', 'delete', 'warm-coach', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ deleted: 'warm-coach', agentsDeleted: [], agentsReassigned: [] });
    expect((await t('personality', 'show', 'warm-coach')).code).toBe(1);
  });

  it('--cascade deletes the agents that use it', async () => {
    const { t } = await seeded();
    const r = await t('personality', 'delete', 'calm', '--cascade');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('and 2 agents that used it: ada, otto');
    expect((await t('agent', 'list', '--json')).json()).toEqual([]);
  });

  it('--reassign moves the agents to another personality', async () => {
    const { t } = await seeded();
    await t('personality', 'create', '--preset', 'blunt-critic');
    const r = await t('personality', 'delete', 'calm', '--reassign', 'blunt-critic');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 agents moved to personality blunt-critic: ada, otto');
    const agents = (await t('agent', 'list', '--json')).json<
      Array<{ personalityId: string; syncStatus: string }>
    >();
    expect(agents.map((a) => a.personalityId)).toEqual(['blunt-critic', 'blunt-critic']);
    expect(agents.every((a) => a.syncStatus === 'synchronized')).toBe(true);
  });

  it('lists the shipped presets without a config directory', async () => {
    const root = await tempDir();
    const r = await cli(join(root, 'none'), root)('personality', 'presets');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('calm-analyst');
    expect(r.stdout).toContain('warm-coach');
  });
});
