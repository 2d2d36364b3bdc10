import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded, write } from './helpers.js';

/** Every file under `dir`, run logs included, with its text. */
async function allFiles(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.push([path, await readFile(path, 'utf8')]);
  }
  return out;
}

const KEY = 'sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-dcba';
const AWS = 'AKIAIOSFODNN7EXAMPLE';
const PAT = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop';
const OPENAI = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234';
const BEARER = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg'; // an opaque token of no known format
const AZURE = '3f9a1c7e5b2d4086a1e9c3b7d5f20e4c'; // 32 hex digits: no known format, quoted back by a refusal

describe('a secret pasted into a command is refused, and never reaches disk or output', () => {
  const cases: Array<[string, string[], string]> = [
    ['a description', ['personality', 'update', 'calm', '--description', `my key is ${KEY}`], KEY],
    ['a trait value', ['personality', 'update', 'calm', '--trait', `openness=${KEY}`], KEY],
    ['an *Env field', ['agent', 'update', 'ada', '--api-key-env', AWS], AWS],
    ['a number setting', ['agent', 'update', 'ada', '--temperature', AZURE], AZURE],
    ['a name', ['personality', 'create', '--preset', 'calm-analyst', '--name', `Bot ${PAT}`], PAT],
    [
      'a role system prompt',
      ['role', 'update', 'reviewer', '--system-prompt', `Use ${PAT} to fetch code.`],
      PAT,
    ],
    // A key glued to a word by `_` (no word boundary before it), in a name and as a reference.
    [
      'a name, glued to a word',
      ['personality', 'create', '--preset', 'calm-analyst', '--name', `x_${OPENAI}`],
      OPENAI,
    ],
    ['a reference, glued to a word', ['agent', 'update', 'ada', '--personality', `x_${OPENAI}`], OPENAI],
    [
      'an Authorization header',
      ['personality', 'update', 'calm', '--description', `Authorization: Bearer ${BEARER}`],
      BEARER,
    ],
    [
      'a description, as an Azure key',
      ['personality', 'update', 'calm', '--description', `azure key ${AZURE}`],
      AZURE,
    ],
    ['a trait name, as an Azure key', ['personality', 'update', 'calm', '--trait', `${AZURE}=3`], AZURE],
    ['an option name, as an Azure key', ['personality', 'list', `--${AZURE}`], AZURE],
    [
      'an id, as a bearer token',
      ['personality', 'create', '--preset', 'calm-analyst', '--id', `Bearer ${BEARER}`],
      BEARER,
    ],
  ];

  it.each(cases)('in %s', async (_, args, secret) => {
    const { dir, root, t } = await seeded();
    const before = new Map(await allFiles(dir));
    for (const json of [false, true]) {
      const r = await t(...args, ...(json ? ['--json'] : []));
      expect([1, 2], r.stderr).toContain(r.code); // refused: a bad value, or a bad flag value (usage)
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    const after = await allFiles(root);
    for (const [path, text] of after) expect(text.includes(secret), path).toBe(false);
    // Nothing but run logs changed.
    for (const [path, text] of await allFiles(dir))
      if (!path.includes(`${join('.troupe', 'runs')}`)) expect(before.get(path), path).toBe(text);
  });

  it('in a file: a role tone, a model base URL with credentials, a stop sequence', async () => {
    const { dir, root, t } = await seeded();
    await write(
      root,
      'role.json',
      JSON.stringify({ name: 'Leaky', systemPrompt: 'Review.', constraints: { tone: `calm ${PAT}` } }),
    );
    const role = await t('role', 'create', '--from', 'role.json');
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('role.json: role: constraints.tone: contains what looks like an API key');
    const agent = {
      name: 'Leaky',
      personalityId: 'calm',
      roleId: 'reviewer',
      model: {
        provider: 'openai',
        modelId: 'gpt-4o',
        baseUrl: 'https://admin:s3cretpassw0rd@llm.example.com/v1',
        stop: ['###', 'xoxb-1234567890-abcdefghij'],
      },
    };
    await write(root, 'agent.json', JSON.stringify(agent));
    const a = await t('agent', 'create', '--from', 'agent.json', '--json');
    expect(a.code).toBe(1);
    expect(
      a
        .error()
        .issues?.map((i) => i.path)
        .sort(),
    ).toEqual(['model.baseUrl', 'model.stop.1']);
    for (const [path, text] of await allFiles(dir)) {
      for (const s of [PAT, 's3cretpassw0rd', 'xoxb-1234567890-abcdefghij'])
        expect(text.includes(s), path).toBe(false);
    }
    expect(a.stdout + a.stderr).not.toContain('s3cretpassw0rd');
  });

  it.each([
    ['', AZURE],
    [' with the newline a copy brings', `${AZURE}\n`],
    [' after a blank', ` ${AZURE}`],
    [' after "Bearer"', `Bearer ${AZURE}`],
  ])('in a file, as a number setting%s: refused, and not kept in the refused run', async (_, pasted) => {
    const { dir, root, t } = await seeded();
    // Every step of the run starts (and records its input).
    const agent = {
      name: 'Keyed',
      personalityId: 'calm',
      roleId: 'reviewer',
      model: { modelId: 'gpt-4o', temperature: pasted, topP: pasted },
      behaviors: { [pasted]: 1 },
    };
    await write(root, 'agent.json', JSON.stringify(agent));
    const a = await t('agent', 'create', '--from', 'agent.json', '--json');
    expect(a.code).toBe(1);
    expect(a.error().code).toBe('VALIDATION_FAILED');
    expect(a.stdout + a.stderr).not.toContain(AZURE);
    const runs = (await allFiles(dir)).filter(([path]) => path.includes(join('.troupe', 'runs')));
    // The refused run is recorded, with its input, less the key.
    expect(runs.some(([, text]) => text.includes('"name":"Keyed"'))).toBe(true);
    for (const [path, text] of runs) expect(text.includes(AZURE), path).toBe(false);
  });

  it('pasted into a file by hand, it is not copied into a backup when the file is replaced or changed', async () => {
    const { dir, root, t } = await seeded();
    const file = join(dir, 'personalities', 'calm.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await write(dir, 'personalities/calm.json', JSON.stringify({ ...doc, description: `key ${KEY} here` }));
    await write(root, 'calm.json', JSON.stringify({ personalities: [{ ...doc, revision: undefined }] }));
    const r = await t('apply', '-f', 'calm.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    const backup = await readFile(
      join(dir, '.troupe', 'backups', 'personalities', 'calm', `${doc.revision}.json`),
      'utf8',
    );
    expect(JSON.parse(backup).description).toBe('key [redacted] here');
    for (const [path, text] of await allFiles(root)) expect(text.includes(KEY), path).toBe(false);
  });

  it('a 32-hex key pasted into a stored file by hand is refused on every read, never shown, composed or backed up', async () => {
    const { dir, root, t } = await seeded();
    const file = join(dir, 'roles', 'reviewer.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await write(dir, 'roles/reviewer.json', JSON.stringify({ ...doc, name: `Reviewer ${AZURE}` }));
    const v = await t('validate');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/roles\/reviewer\.json[\s\S]*name: contains what looks like an API key/);
    const seen = [v];
    for (const args of [
      ['role', 'show', 'reviewer'],
      ['role', 'list'],
      ['role', 'list', '--json'],
      ['export'],
      ['reconcile'],
      ['agent', 'show', 'ada', '--resolved'],
    ])
      seen.push(await t(...args));
    expect(seen[1]!.code).toBe(1);
    for (const r of seen) expect(r.stdout + r.stderr).not.toContain(AZURE);
    // Replaced by a valid one: the backup of the pasted version holds no key either.
    await write(root, 'r.json', JSON.stringify({ roles: [{ ...doc, revision: undefined }] }));
    const r = await t('apply', '-f', 'r.json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(AZURE);
    for (const [path, text] of await allFiles(dir)) expect(text.includes(AZURE), path).toBe(false);
    expect(await t('validate')).toMatchObject({ code: 0 });
  });

  it('in a batch a workflow of the user hands to file.persist: refused before the commit, as is a document past its schema', async () => {
    const { dir, root, t } = await seeded();
    const before = new Map(await allFiles(dir));
    const traits = { openness: 1, conscientiousness: 1, extraversion: 1, agreeableness: 1, neuroticism: 1 };
    const persist = (doc: Record<string, unknown>) =>
      JSON.stringify({
        id: 'raw',
        steps: [
          {
            id: 'p',
            service: 'file',
            operation: 'persist',
            input: { ops: [{ op: 'put', kind: 'personalities', create: true, doc }] },
            compensate: { operation: 'revert' },
          },
        ],
      });
    await write(
      root,
      'leak.json',
      persist({ id: 'leak', name: 'L', description: `key ${KEY}`, bigFive: traits }),
    );
    await write(root, 'bad.json', persist({ id: 'bad', name: 'B', bigFive: { openness: 999 } }));
    const leak = await t('workflow', 'run', 'leak.json');
    expect(leak.code).toBe(1);
    expect(leak.stderr).toContain('personalities/leak.json: personality "leak" would be written invalid');
    const bad = await t('workflow', 'run', 'bad.json');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/personalities\/bad\.json: .*\n {2}bigFive\.openness: /);
    for (const [path, text] of await allFiles(dir)) {
      expect(text.includes(KEY), path).toBe(false);
      if (!path.includes(join('.troupe', 'runs'))) expect(before.get(path), path).toBe(text);
    }
  });

  it('a 32-hex key in a workflow step input is redacted in the run log, its definition and what show prints', async () => {
    const { dir, root, t } = await seeded();
    const traits = { openness: 1, conscientiousness: 1, extraversion: 1, agreeableness: 1, neuroticism: 1 };
    await write(
      root,
      'hex.json',
      JSON.stringify({
        id: 'hex',
        steps: [
          {
            id: 'a',
            service: 'personality',
            operation: 'create',
            input: { personality: { id: 'p', name: `Key ${AZURE}`, bigFive: traits } },
            compensate: { operation: 'revert' },
          },
        ],
      }),
    );
    const run = await t('workflow', 'run', 'hex.json', '--json');
    expect(run.code).toBe(1);
    const runId = run.json<{ runId: string }>().runId;
    const shown = await t('workflow', 'show', runId, '--json');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('[redacted]');
    for (const r of [run, shown]) expect(r.stdout + r.stderr).not.toContain(AZURE);
    for (const [path, text] of await allFiles(dir)) expect(text.includes(AZURE), path).toBe(false);
  });

  it('run logs stay out of git', async () => {
    const { dir } = await seeded();
    expect((await readFile(join(dir, '.troupe', '.gitignore'), 'utf8')).split('\n')).toContain('runs/');
  });
});
