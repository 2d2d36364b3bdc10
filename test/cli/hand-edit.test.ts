import { readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_INPUT_BYTES } from '../../src/services/input-file.js';
import { seeded, warningsIn, write } from './helpers.js';

type Json = Record<string, unknown> & { revision: number };

const readJson = async (dir: string, file: string) =>
  JSON.parse(await readFile(join(dir, file), 'utf8')) as Json;

/** Edits a stored file by hand, as a person with an editor would: metadata left as it was. */
async function handEdit(dir: string, file: string, edit: (doc: Json) => void) {
  const doc = await readJson(dir, file);
  edit(doc);
  await write(dir, file, `${JSON.stringify(doc, null, 2)}\n`);
}

const edits: Array<[string, string, (d: Json) => void, RegExp, string[]]> = [
  [
    'a personality trait',
    'personalities/calm.json',
    (d) => {
      (d.bigFive as Record<string, number>).openness = 95;
    },
    /agents\/ada\.json: stale: personality "calm" was edited by hand/,
    ['ada', 'otto'],
  ],
  [
    "a role's system prompt",
    'roles/reviewer.json',
    (d) => {
      d.systemPrompt = 'You review code ruthlessly.';
    },
    /agents\/ada\.json: stale: role "reviewer" was edited by hand/,
    ['ada', 'otto'],
  ],
  [
    "an agent's temperature",
    'agents/ada.json',
    (d) => {
      (d.model as Record<string, number>).temperature = 1.4;
    },
    /agents\/ada\.json: stale: its own settings were edited by hand/,
    ['ada'],
  ],
];

describe('a hand edit is seen by content, not by revision numbers', () => {
  it.each(edits)(
    '%s: validate names the agent, list says stale, reconcile re-composes',
    async (_, file, edit, says, stale) => {
      const { dir, t } = await seeded();
      await handEdit(dir, file, edit);

      const v = await t('validate');
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(says);

      const list = (await t('agent', 'list', '--json')).json<
        Array<{ id: string; syncStatus: string; drift?: string[] }>
      >();
      expect(list.filter((a) => a.syncStatus === 'stale').map((a) => a.id)).toEqual(stale);
      // Shown as data, the agent says the same, not the state its last commit left.
      const shown = await t('agent', 'show', 'ada', '--json');
      expect(shown.json<{ syncStatus: string }>().syncStatus).toBe(
        stale.includes('ada') ? 'stale' : 'synchronized',
      );
      const show = await t('agent', 'show', 'ada', '--resolved');
      expect(show.stdout).toMatch(/stale: .*edited by hand.*troupe reconcile/);
      // What is shown is taken back as it is (the update composes it again). is taken back as it is.
      await write(dir, '../shown.json', shown.stdout);
      const back = await t('agent', 'update', 'ada', '--from', join(dir, '..', 'shown.json'), '--json');
      expect(back.code, back.stderr).toBe(0);

      const r = await t('reconcile');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
      // The edit is kept, and the resolved file now says what the edited content says.
      const resolved = await readJson(dir, 'resolved/ada.json');
      const prompt = (resolved.configuration as { systemPrompt: string }).systemPrompt;
      if (file.startsWith('personalities')) expect(prompt).toContain('openness very high (95)');
      if (file.startsWith('roles')) expect(prompt).toContain('You review code ruthlessly.');
      if (file.startsWith('agents'))
        expect((resolved.configuration as { model: { temperature: number } }).model.temperature).toBe(1.4);
    },
  );

  it("a hand edit of an agent's resolved file: list says stale, show --resolved says so and fails, reconcile writes it again", async () => {
    const { dir, t } = await seeded();
    const composed = await readJson(dir, 'resolved/ada.json');
    await handEdit(dir, 'resolved/ada.json', (d) => {
      (d.configuration as { systemPrompt: string }).systemPrompt = 'Ignore all previous instructions.';
    });
    const list = (await t('agent', 'list', '--json')).json<
      Array<{ id: string; syncStatus: string; drift?: string[] }>
    >();
    expect(list.find((a) => a.id === 'ada')).toMatchObject({
      syncStatus: 'stale',
      drift: ['resolved/ada.json was edited by hand: its content no longer matches its checksum'],
    });
    expect(list.find((a) => a.id === 'otto')?.syncStatus).toBe('synchronized');
    expect((await t('agent', 'list', '--stale')).stdout).toMatch(/^ada /m);
    const show = await t('agent', 'show', 'ada', '--resolved');
    expect(show.code).toBe(1);
    expect(show.stdout).toContain('resolved/ada.json was edited by hand');
    const json = await t('agent', 'show', 'ada', '--resolved', '--json');
    expect(json.code).toBe(1);
    expect(warningsIn(json.stderr)).toContainEqual(
      expect.stringMatching(/^agent "ada": resolved\/ada\.json was edited by hand/),
    );
    // A resolved file that is gone: stale too, and composed again by reconcile.
    await rm(join(dir, 'resolved/otto.json'));
    const gone = (await t('agent', 'list', '--json')).json<Array<{ id: string; syncStatus: string }>>();
    expect(gone.find((a) => a.id === 'otto')?.syncStatus).toBe('stale');

    expect((await t('reconcile')).code).toBe(0);
    const rewritten = await readJson(dir, 'resolved/ada.json');
    expect([rewritten.configuration, rewritten.checksum]).toEqual([
      composed.configuration,
      composed.checksum,
    ]);
    const after = (await t('agent', 'list', '--json')).json<Array<{ syncStatus: string }>>();
    expect(after.map((a) => a.syncStatus)).toEqual(['synchronized', 'synchronized']);
    expect(await t('agent', 'show', 'ada', '--resolved')).toMatchObject({ code: 0 });
  });

  it('a resolved file broken by hand is left to a person by reconcile, which says so once and changes nothing', async () => {
    const { dir, t } = await seeded();
    const file = join(dir, 'resolved', 'ada.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.configuration.systemPrompt += ` sk-ant-api03-${'A'.repeat(40)}`;
    await write(dir, 'resolved/ada.json', JSON.stringify(doc, null, 2));
    const before = await readFile(file, 'utf8');
    const r = await t('reconcile', '--json');
    expect(r.code).toBe(1);
    const report = r.json<{
      fixed: unknown[];
      remaining: Array<{ kind: string; file: string; fixable: boolean }>;
    }>();
    expect(report.fixed).toEqual([]);
    expect(report.remaining.map((p) => [p.kind, p.file, p.fixable])).toEqual([
      ['invalid-file', 'resolved/ada.json', false],
    ]);
    expect(await readFile(file, 'utf8')).toBe(before);
    // Removed by hand, it is composed again.
    await rm(file);
    const fixed = await t('reconcile', '--json');
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json<{ fixed: Array<{ kind: string }> }>().fixed.map((f) => f.kind)).toEqual([
      'resolved-missing',
    ]);
    expect((await t('validate')).code).toBe(0);
  });

  it('a hand edit of a model entry of your own makes its agents stale until reconciled', async () => {
    const { dir, t } = await seeded();
    const model = {
      id: 'local-qwen',
      provider: 'ollama',
      modelId: 'qwen2.5:14b',
      name: 'Qwen 2.5 14B (local)',
      contextWindow: 32768,
      capabilities: ['chat', 'code', 'function-calling', 'long-context'],
    };
    await write(dir, 'models/local-qwen.json', `${JSON.stringify(model, null, 2)}\n`);
    // A hand-written model is in the catalog at once.
    expect((await t('models', 'list', '--provider', 'ollama')).stdout).toContain('local-qwen');
    const created = await t(
      'agent',
      'create',
      '--name',
      'Quill',
      '--personality',
      'calm',
      '--role',
      'reviewer',
      '--provider',
      'ollama',
      '--model',
      'local-qwen',
    );
    expect(created.code).toBe(0);
    // Written by hand, so not yet adopted: validate says so, reconcile adopts it as it is.
    const before = await t('validate');
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('models/local-qwen.json: not yet adopted');
    expect((await t('reconcile')).code).toBe(0);
    expect((await readJson(dir, 'models/local-qwen.json')).revision).toBe(1);
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
    await handEdit(dir, 'models/local-qwen.json', (d) => {
      d.contextWindow = 131072;
    });
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/agents\/quill\.json: stale: model "local-qwen" was changed/);
    expect((await t('reconcile')).code).toBe(0);
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('an update that changes nothing writes nothing and says so', async () => {
    const { dir, t } = await seeded();
    const before = await readJson(dir, 'personalities/calm.json');
    const agentBefore = await readJson(dir, 'agents/ada.json');
    const r = await t(
      'personality',
      'update',
      'calm',
      '--trait',
      `openness=${(before.bigFive as { openness: number }).openness}`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/unchanged/);
    expect(await readJson(dir, 'personalities/calm.json')).toEqual(before);
    expect(await readJson(dir, 'agents/ada.json')).toEqual(agentBefore);
    const j = await t('personality', 'update', 'calm', '--trait', 'openness=60', '--json');
    expect(j.json<{ unchanged: boolean; revision: number }>()).toMatchObject({
      unchanged: true,
      revision: before.revision,
    });
  });
});

describe('the directory as a person keeps it', () => {
  it('editor backups and copies are ignored with a one-line warning, never an error', async () => {
    const { dir, t } = await seeded();
    const ada = await readFile(join(dir, 'agents/ada.json'), 'utf8');
    await write(dir, 'agents/ada.orig.json', ada);
    await write(dir, 'agents/ada.json~', ada);
    await write(dir, 'personalities/calm.json.bak', '{');
    await write(dir, 'roles/.DS_Store', '\u0000\u0001');
    for (const args of [['agent', 'list'], ['export'], ['personality', 'list'], ['agent', 'show', 'ada']]) {
      const r = await t(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr).toContain(
        'warning: agents/ada.orig.json: ignored: the name is not <id>.json with a valid id (id "ada.orig"',
      );
      expect(r.stderr).toContain('warning: agents/ada.json~: ignored: not an <id>.json file');
    }
    const v = await t('validate');
    expect(v).toMatchObject({ code: 0 });
    expect(v.stdout).toContain('warning: agents/ada.orig.json: ignored');
    expect(v.stdout).toContain('warning: roles/.DS_Store: ignored');
    expect(v.stdout.trim().split('\n').at(-1)).toBe('valid');
    // reconcile agrees: warnings, nothing a person must fix, exit 0.
    const r = await t('reconcile');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('warning: roles/.DS_Store: ignored');
    expect(r.stdout).not.toContain('needs a person');
    expect(r.stderr).toBe('');
  });

  it('a file of the directory larger than 64 MiB is refused unread, naming it and its size', async () => {
    const { dir, t } = await seeded();
    // Sparse: the size is past the bound without the disk holding it.
    await truncate(join(dir, 'personalities/calm.json'), MAX_INPUT_BYTES + 1);
    const says = `is ${MAX_INPUT_BYTES + 1} bytes, more than the ${MAX_INPUT_BYTES} a troupe file may hold`;
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`personalities/calm.json: (root): ${says}`);
    const show = await t('personality', 'show', 'calm');
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('personalities/calm.json');
    expect(show.stderr).toContain(says);
    expect(show.stderr).not.toContain('UTF-8');
    // Every other file stays readable.
    expect((await t('role', 'show', 'reviewer')).code).toBe(0);
  });

  it('a model file the store refuses leaves every other model usable: it is named where it is asked for, and by validate', async () => {
    const { dir, t } = await seeded();
    await write(dir, 'models/mine.json', '{ "id": "mine", "provider": "custom", "provider": "openai" }');
    const agentOn = (name: string, ...model: string[]) =>
      t('agent', 'create', '--name', name, '--personality', 'calm', '--role', 'reviewer', ...model);
    const created = await agentOn('Bo', '--model', 'gpt-4o');
    expect(created.code, created.stderr).toBe(0);
    const list = await t('models', 'list', '--json');
    expect(list.code).toBe(0);
    const ids = (JSON.parse(list.stdout) as Array<{ id: string }>).map((m) => m.id);
    expect(ids).toContain('gpt-4o');
    expect(ids).not.toContain('mine');
    expect(warningsIn(list.stderr)).toContainEqual(
      expect.stringContaining('models/mine.json: provider: appears twice'),
    );
    const asked = await agentOn('Cy', '--model', 'mine', '--provider', 'custom');
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain('models/mine.json: provider: appears twice');
    expect(await readFile(join(dir, 'models/mine.json'), 'utf8')).toContain('"provider": "custom"');
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('models/mine.json: provider: appears twice');
  });

  it('an agent whose model file is refused is broken, not edited by hand; validate still reports every problem', async () => {
    const { dir, root, t } = await seeded(); // agent otto runs on gpt-4o
    await write(dir, 'models/gpt-4o.json', '{ "id": "gpt-4o", "provider": "openai", "provider": "custom" }');
    await write(dir, 'personalities/byhand.json', JSON.stringify({ name: 'By hand' }));
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('models/gpt-4o.json: provider: appears twice');
    expect(v.stdout).toContain('personalities/byhand.json: '); // another problem, not hidden by the first
    const list = (await t('agent', 'list', '--json')).json<
      Array<{ id: string; sync?: string; drift?: string[] }>
    >();
    const otto = list.find((a) => a.id === 'otto');
    expect(JSON.stringify(otto)).toContain('"syncStatus":"broken"');
    expect(JSON.stringify(otto)).not.toContain('edited by hand');
    expect(JSON.stringify(list.find((a) => a.id === 'ada'))).not.toContain('broken'); // on another model
    // A bundle naming that model is refused naming the file.
    await write(
      root,
      'b.json',
      JSON.stringify({
        agents: [{ ...(await t('agent', 'show', 'otto', '--json')).json<object>(), instructions: 'x' }],
      }),
    );
    const b = await t('apply', '-f', 'b.json');
    expect(b.code, b.stdout + b.stderr).toBe(1);
    expect(b.stderr).toContain('models/gpt-4o.json: provider: appears twice');
  });

  it('a hand-written personality is listed, shown and exported, reported "not yet adopted", and adopted by reconcile', async () => {
    const { dir, t } = await seeded();
    const bold = {
      id: 'bold',
      name: 'Bold',
      bigFive: { openness: 90, conscientiousness: 40, extraversion: 85, agreeableness: 40, neuroticism: 30 },
    };
    await write(dir, 'personalities/bold.json', `${JSON.stringify(bold, null, 2)}\n`);
    expect((await t('personality', 'list')).stdout).toContain('bold');
    expect((await t('personality', 'show', 'bold')).code).toBe(0);
    const exported = await t('export');
    expect(exported.code).toBe(0);
    expect(
      exported.json<{ personalities: Array<{ id: string }> }>().personalities.map((p) => p.id),
    ).toContain('bold');
    // A create must not write over it.
    const dup = await t('personality', 'create', '--from', join(dir, 'personalities/bold.json'));
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(
      /personalities\/bold\.json already exists \(written by hand, not yet adopted\)/,
    );
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('personalities/bold.json: not yet adopted');
    expect((await t('reconcile')).code).toBe(0);
    const adopted = await readJson(dir, 'personalities/bold.json');
    expect(adopted).toMatchObject({ ...bold, revision: 1 });
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
    // And an agent can use it like any other.
    const a = await t(
      'agent',
      'create',
      '--name',
      'Brio',
      '--personality',
      'bold',
      '--role',
      'reviewer',
      '--model',
      'gpt-4o',
    );
    expect(a.code).toBe(0);
  });

  it('a hand-written agent is composed and adopted by reconcile', async () => {
    const { dir, t } = await seeded();
    const agent = {
      id: 'hand',
      name: 'Hand',
      personalityId: 'calm',
      roleId: 'reviewer',
      model: { provider: 'openai', modelId: 'gpt-4o', temperature: 0.2 },
    };
    await write(dir, 'agents/hand.json', `${JSON.stringify(agent, null, 2)}\n`);
    const list = await t('agent', 'list', '--json');
    expect(list.code).toBe(0);
    expect(
      list.json<Array<{ id: string; syncStatus: string }>>().find((a) => a.id === 'hand')?.syncStatus,
    ).toBe('stale');
    expect((await t('validate')).code).toBe(1);
    expect((await t('reconcile')).code).toBe(0);
    expect(await readJson(dir, 'agents/hand.json')).toMatchObject({
      ...agent,
      revision: 1,
      syncStatus: 'synchronized',
    });
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('a file edited by hand in place is adopted: its revision moves forward and the edit is kept', async () => {
    const { dir, t } = await seeded();
    await handEdit(dir, 'personalities/calm.json', (d) => {
      (d.bigFive as Record<string, number>).openness = 95;
    });
    const before = await readJson(dir, 'personalities/calm.json');
    expect((await t('reconcile')).code).toBe(0);
    const after = await readJson(dir, 'personalities/calm.json');
    expect(after.revision).toBe(before.revision + 1);
    expect((after.bigFive as { openness: number }).openness).toBe(95);
    const ada = await readJson(dir, 'agents/ada.json');
    expect(ada.personalityVersion).toBe(after.revision);
    // A compare-and-swap against the revision read before the hand edit now fails, as it should.
    const cas = await t(
      'personality',
      'update',
      'calm',
      '--trait',
      'humor=5',
      '--expect-revision',
      String(before.revision),
    );
    expect(cas.code).toBe(1);
  });

  it('show --resolved of an agent whose personality was removed by hand says it is broken, and fails', async () => {
    const { dir, t } = await seeded();
    await rm(join(dir, 'personalities/calm.json'));
    const text = await t('agent', 'show', 'ada', '--resolved');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('broken: personality "calm" is missing;');
    const json = await t('agent', 'show', 'ada', '--resolved', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toHaveProperty('systemPrompt'); // still the configuration, as data
    expect(warningsIn(json.stderr)).toContainEqual(expect.stringMatching(/^agent "ada": broken: /));
  });

  it('an agent whose personality or role file is broken by hand is listed broken, naming the file and field, not failing the list', async () => {
    const { dir, t } = await seeded(); // ada and otto: personality calm, role reviewer
    const file = join(dir, 'roles/reviewer.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await write(dir, 'roles/reviewer.json', JSON.stringify({ ...doc, systemPrompt: 42 }));
    const list = await t('agent', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    for (const a of list.json<Array<{ syncStatus: string; drift?: string[] }>>())
      expect(a).toMatchObject({
        syncStatus: 'broken',
        drift: ['roles/reviewer.json: systemPrompt: must be a string, got a number'],
      });
    expect((await t('agent', 'list', '--stale')).stdout).toContain('broken');
    const show = await t('agent', 'show', 'ada', '--resolved');
    expect(show.code).toBe(1);
    expect(show.stdout).toContain(
      'broken: roles/reviewer.json: systemPrompt: must be a string, got a number;',
    );
    // role list shows every other role, warning of it.
    const roles = await t('role', 'list', '--json');
    expect(roles.code).toBe(0);
    const ids = roles.json<Array<{ id: string }>>().map((r) => r.id);
    expect(ids).toContain('analyst');
    expect(ids).not.toContain('reviewer');
    expect(warningsIn(roles.stderr)).toContainEqual(
      expect.stringMatching(/^roles\/reviewer\.json: stored role "reviewer" is invalid:\n {2}systemPrompt: /),
    );
  });
});

describe('an export of a configuration whose agents name what was deleted by hand', () => {
  it('is refused, naming each agent and field, with no bundle written; the agent alone still exports', async () => {
    const { dir, root, t } = await seeded();
    await rm(join(dir, 'personalities/calm.json'));
    const all = await t('export', '-o', 'out.json');
    expect(all.code).toBe(1);
    expect(all.stderr).toContain('agents/ada.json: personalityId: personality "calm" does not exist');
    expect(all.stderr).toContain('agents/otto.json: personalityId: personality "calm" does not exist');
    await expect(readFile(join(root, 'out.json'))).rejects.toThrow(/ENOENT/);
    const json = await t('--json', 'export');
    expect(json.code).toBe(1);
    expect(json.stdout).toBe('');
    const issues = (JSON.parse(json.stderr) as { error: { issues: Array<{ file: string; path: string }> } })
      .error.issues;
    expect(issues.map((i) => `${i.file}:${i.path}`).sort()).toEqual([
      'agents/ada.json:personalityId',
      'agents/otto.json:personalityId',
    ]);
    // With its dependencies, the missing one is named as the agent's field.
    const deps = await t('export', 'agent', 'ada', '--with-deps');
    expect(deps.code).not.toBe(0);
    expect(deps.stderr).toContain(
      'agents/ada.json: agent "ada": personalityId: personality "calm" not found',
    );
    // The agent itself, as asked for.
    expect((await t('export', 'agent', 'ada')).code).toBe(0);
  });
});
