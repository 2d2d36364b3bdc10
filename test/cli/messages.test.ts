import { describe, expect, it } from 'vitest';
import { initialised, snapshot, write } from './helpers.js';
import { checkThenVerify } from './workflows.js';

describe('messages a user can act on', () => {
  it('a bundle names each entity by id and says what to pass, never zod wording', async () => {
    const { root, t } = await initialised();
    await write(root, 'b.json', JSON.stringify({ agents: [{ id: 'ada', name: 'Ada', personalityId: 3 }] }));
    const r = await t('apply', '-f', 'b.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('agents[0].personalityId: must be a string, got a number (agent "ada")');
    expect(r.stderr).toContain('agents[0].roleId: is required: the id of the role the agent plays');
    expect(r.stderr).toContain(
      'agents[0].model: is required: the model settings, e.g. {"provider": "openai", "modelId": "gpt-4o"} (agent "ada")',
    );
    expect(r.stderr).not.toMatch(/Invalid input|expected \w+, received/);
    const j = await t('apply', '-f', 'b.json', '--json');
    const issues = j.error().issues!;
    expect(issues.find((i) => i.path === 'agents[0].roleId')).toMatchObject({ file: 'b.json' });
    await write(
      root,
      'c.json',
      JSON.stringify({
        agents: [
          {
            id: 'x',
            name: 'X',
            personalityId: 'p',
            roleId: 'r',
            model: { provider: 'openaii', modelId: 'gpt-4o' },
          },
        ],
      }),
    );
    const c = await t('apply', '-f', 'c.json');
    expect(c.stderr).toContain('agents[0].model.provider: must be one of "openai", "anthropic"');
    expect(c.stderr).toContain('got "openaii" (agent "x")');
  });

  it('--trait with a value that is not 0–100 is a usage error (exit 2), and so is an unknown trait', async () => {
    const { t, dir } = await initialised();
    const before = await snapshot(dir);
    for (const bad of ['openness=x', 'openness=150', 'openness=-1', 'opennes=50']) {
      const r = await t('personality', 'create', '--name', 'X', '--trait', bad);
      expect(r.code, bad).toBe(2);
    }
    expect((await t('personality', 'create', '--name', 'X', '--trait', 'opennes=50')).stderr).toContain(
      'did you mean "openness"?',
    );
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a preset that is not close to any lists the presets there are', async () => {
    const { t } = await initialised();
    const r = await t('personality', 'create', '--preset', 'nosuch');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('personality preset "nosuch" not found; the presets are calm-analyst');
    expect((await t('personality', 'create', '--preset', 'calm')).stderr).toContain(
      'did you mean "calm-analyst"?',
    );
  });

  it('a merge rule naming no field is refused with a suggestion, before anything is written', async () => {
    const { t, dir } = await initialised();
    await t('personality', 'create', '--preset', 'calm-analyst');
    const before = await snapshot(dir);
    const update = (rule: string) =>
      t(
        'personality',
        'update',
        'calm-analyst',
        '--expect-revision',
        '1',
        '--on-conflict',
        'field-merge',
        '--merge-rule',
        rule,
        '--trait',
        'openness=10',
      );
    const r = await update('bigFive.opennes=max');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'merge rule "bigFive.opennes" names no field of a personality; did you mean "bigFive.openness"?',
    );
    expect(await snapshot(dir)).toEqual(before);
    const ok = await update('bigFive.openness=max');
    expect(ok.code).toBe(0);
  });

  it('a workflow run without the input it needs fails at dry run, and a real run writes nothing', async () => {
    const { root, t, dir } = await initialised();
    await write(root, 'wf.yaml', checkThenVerify);
    const dry = await t('workflow', 'run', 'wf.yaml', '--dry-run');
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('workflow check-and-verify cannot start');
    expect(dry.stderr).toContain('step "check" needs "input.id", which the workflow input does not give');
    const before = await snapshot(dir);
    const real = await t('workflow', 'run', 'wf.yaml');
    expect(real.code).toBe(1);
    expect(await snapshot(dir)).toEqual(before); // no run log either: nothing was started
    await write(root, 'in.json', '{"id": "calm-analyst"}');
    expect((await t('workflow', 'run', 'wf.yaml', '--dry-run', '--input', 'in.json')).code).toBe(0);
  });
});
