import { describe, expect, it } from 'vitest';
import { cli, seeded, snapshot, write } from './helpers.js';
import { bold, checkThenVerify, createThenFail, type RunResultJson, UUID } from './workflows.js';

describe('troupe apply -f', () => {
  it('applies a bundle like import, and --dry-run writes nothing', async () => {
    const { root, dir, t } = await seeded();
    const b = (await t('export')).json<{ personalities: unknown[] }>();
    b.personalities.push(bold('bold'));
    await write(root, 'cast.json', JSON.stringify(b));
    const before = await snapshot(dir);
    const dry = await t('apply', '-f', 'cast.json', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('create    personality bold');
    expect(dry.stdout).toContain('Dry run: 1 to create, 4 unchanged; nothing written');
    expect(await snapshot(dir)).toEqual(before);
    expect((await t('apply', '--file', 'cast.json', '--dry-run', '--json')).json()).toMatchObject({
      applied: false,
    });

    const r = await t('apply', '-f', 'cast.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Applied cast.json: 1 created, 4 unchanged');
    expect((await t('personality', 'show', 'bold')).code).toBe(0);
    const again = await t('apply', '-f', 'cast.json', '--json');
    expect(again.json()).toMatchObject({ applied: true, runId: expect.stringMatching(UUID) });
  });

  it('-f is required (exit 2)', async () => {
    const { t } = await seeded();
    const r = await t('apply');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '-f, --file <file>' not specified");
  });
});

describe('progress on a terminal', () => {
  const fourSteps = `
id: four
steps:
  - { id: p, service: personality, operation: check, input: { id: calm } }
  - { id: r, service: role, operation: check, input: { id: reviewer } }
  - { id: v1, service: configuration, operation: verify, input: { touched: [] }, dependsOn: [p, r] }
  - { id: v2, service: configuration, operation: verify, input: { touched: [] }, dependsOn: [v1] }
`;

  it('prints a line per step on stderr for runs of 4 or more steps', async () => {
    const { root, dir } = await seeded();
    await write(root, 'four.yaml', fourSteps);
    const r = await cli(dir, root, true)('workflow', 'run', 'four.yaml');
    expect(r.code).toBe(0);
    for (const id of [
      'p (personality.check)',
      'r (role.check)',
      'v1 (configuration.verify)',
      'v2 (configuration.verify)',
    ]) {
      expect(r.stderr).toContain(`  ▶ ${id} started\n`);
      expect(r.stderr).toMatch(new RegExp(`  ✓ ${id.replace(/[().]/g, '\\$&')} done in \\d+ ms\\n`));
    }
    expect(r.stdout).not.toContain('▶');
    expect(r.stdout).toContain('of workflow four: completed');
  });

  it('shows compensations as they happen', async () => {
    const { root, dir } = await seeded();
    const flow = {
      ...createThenFail,
      steps: [
        ...createThenFail.steps,
        {
          id: 'last',
          service: 'configuration',
          operation: 'verify',
          input: { touched: [] },
          dependsOn: ['remove'],
        },
      ],
    };
    await write(root, 'flow.json', JSON.stringify(flow));
    await write(root, 'in.json', JSON.stringify({ first: bold('bold'), second: bold('brave') }));
    const r = await cli(dir, root, true)('workflow', 'run', 'flow.json', '--input', 'in.json');
    expect(r.code).toBe(1);
    const progress = r.stderr.split('\n').filter((l) => /^ {2}[▶✓✗↶↻-] /.test(l));
    expect(progress.map((l) => l.replace(/ in \d+ ms$/, ''))).toEqual([
      '  ▶ first (personality.create) started',
      '  ✓ first (personality.create) done',
      '  ▶ second (personality.create) started',
      '  ✓ second (personality.create) done',
      '  ▶ remove (personality.remove) started',
      '  ✗ remove (personality.remove) NOT_FOUND: personality "ghost" not found',
      '  ↶ second (personality.create) compensating',
      '  ↶ second (personality.create) compensated',
      '  ↶ first (personality.create) compensating',
      '  ↶ first (personality.create) compensated',
    ]);
  });

  it('is off with --json, off when not a terminal, and off for short runs', async () => {
    const { root, dir } = await seeded();
    await write(root, 'four.yaml', fourSteps);
    await write(root, 'two.yaml', checkThenVerify);
    await write(root, 'in.json', '{ "id": "calm" }');
    const json = await cli(dir, root, true)('workflow', 'run', 'four.yaml', '--json');
    expect(json.stderr).toBe('');
    expect(json.json<RunResultJson>().status).toBe('completed');
    const pipe = await cli(dir, root, false)('workflow', 'run', 'four.yaml');
    expect(pipe.stderr).toBe('');
    const short = await cli(dir, root, true)('workflow', 'run', 'two.yaml', '--input', 'in.json');
    expect(short.code).toBe(0);
    expect(short.stderr).toBe('');
  });

  it('apply and import show the apply-bundle workflow for bundles of 4 or more entities', async () => {
    const { root, dir, t } = await seeded();
    await write(root, 'cast.json', (await t('export')).stdout);
    for (const args of [
      ['apply', '-f', 'cast.json'],
      ['import', 'cast.json'],
    ]) {
      const r = await cli(dir, root, true)(...args);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('  ▶ plan (configuration.planBundle) started\n');
      expect(r.stderr).toContain('  ▶ persist (file.persist) started\n');
      expect(r.stderr).toMatch(/ {2}✓ verify \(configuration\.verify\) done in \d+ ms\n/);
      expect(r.stdout).not.toContain('▶');
    }
  });
});
