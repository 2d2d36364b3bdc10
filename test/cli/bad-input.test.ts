import { execFileSync } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, seeded, snapshot, tempDir, write } from './helpers.js';

const FILES: Record<string, string> = {
  'broken.json': '{\n  "name": "Calm",\n  "bigFive": { "openness": 60, }\n}\n',
  'broken.yaml': 'name: Calm\nbigFive:\n  openness: [60\n',
  'too-open.yaml':
    'name: Wide\nbigFive: { openness: 170, conscientiousness: 50, extraversion: 50, agreeableness: 50, neuroticism: 50 }\n',
  'colour.json': JSON.stringify({
    name: 'Red',
    colour: 'red',
    bigFive: { openness: 1, conscientiousness: 1, extraversion: 1, agreeableness: 1, neuroticism: 1 },
  }),
  'list.json': '[1, 2]',
};

/** `agent create` of agent Z (gpt-4o) with the personality and role given. */
const createZ = (personality: string, role: string) => [
  'agent',
  'create',
  '--name',
  'Z',
  '--personality',
  personality,
  '--role',
  role,
  '--model',
  'gpt-4o',
];

/**
 * Each case: a command a user can get wrong. It must exit 1 with a message naming what is
 * wrong (file, entity, field) and leave every file of the directory byte-identical.
 */
const CASES: Array<{ name: string; args: string[]; message: RegExp; code?: string; exit?: number }> = [
  {
    name: 'malformed JSON',
    args: ['personality', 'create', '--from', 'broken.json'],
    message: /broken\.json: invalid JSON at line 3/,
  },
  {
    name: 'malformed YAML',
    args: ['personality', 'create', '--from', 'broken.yaml'],
    message: /broken\.yaml: invalid YAML at line \d+/,
  },
  {
    name: 'a file that is not an object',
    args: ['role', 'create', '--from', 'list.json'],
    message: /list\.json: must hold an object, got an array/,
  },
  {
    name: 'a missing input file',
    args: ['agent', 'create', '--from', 'nope.yaml'],
    message: /nope\.yaml: cannot read file \(no such file\)/,
  },
  {
    name: 'a schema violation in a file',
    args: ['personality', 'create', '--from', 'too-open.yaml'],
    message: /too-open\.yaml[\s\S]*bigFive\.openness: must be an integer 0–100, got 170/,
  },
  {
    name: 'a schema violation in a flag',
    args: ['personality', 'update', 'calm', '--trait', 'neuroticism=101'],
    message: /--trait neuroticism: must be an integer 0–100, got "101"/,
    exit: 2, // a flag given a value it cannot take: a usage error
  },
  {
    name: 'a trait value that is not a number',
    args: ['personality', 'update', 'calm', '--trait', 'humor=lots'],
    message: /humor: must be an integer 0–100, got "lots"/,
    exit: 2, // a flag given a value it cannot take: a usage error
  },
  {
    name: 'an unknown field',
    args: ['personality', 'create', '--from', 'colour.json'],
    message: /colour\.json[\s\S]*unknown field "colour"/,
  },
  {
    name: 'an unknown trait',
    args: ['personality', 'update', 'calm', '--trait', 'opennes=50'],
    message: /unknown trait "opennes"; did you mean "openness"\?/,
    exit: 2, // a flag given a value it cannot take: a usage error
  },
  {
    name: 'an id with a slash',
    args: ['personality', 'create', '--preset', 'warm-coach', '--id', 'a/b'],
    message: /id: must be a lowercase slug/,
  },
  {
    name: 'an id with ..',
    args: ['personality', 'show', '../../etc/passwd'],
    message: /personality id must be a lowercase slug[\s\S]*"\.\.\/\.\.\/etc\/passwd"/,
  },
  {
    name: 'an id with spaces',
    args: ['role', 'create', '--id', 'my role', '--name', 'R', '--system-prompt', 'p'],
    message: /id: must be a lowercase slug/,
  },
  {
    name: 'a reference with a path in it',
    args: ['agent', 'update', 'ada', '--personality', '../calm'],
    message: /personalityId: must be a lowercase slug/,
  },
  {
    name: 'a missing personality reference',
    args: createZ('clam', 'reviewer'),
    message: /agent "z": personalityId: personality "clam" not found; did you mean "calm"\?/,
    code: 'NOT_FOUND',
  },
  {
    name: 'a missing role reference',
    args: createZ('calm', 'reviwer'),
    message: /roleId: role "reviwer" not found; did you mean "reviewer"\?/,
    code: 'NOT_FOUND',
  },
  {
    name: 'an unknown model',
    args: ['agent', 'update', 'ada', '--model', 'claude-sonet-4'],
    message: /anthropic model "claude-sonet-4" not found; did you mean "claude-sonnet-4"/,
  },
  {
    name: 'an unknown preset',
    args: ['personality', 'create', '--preset', 'calm-analist'],
    message: /personality preset "calm-analist" not found; did you mean "calm-analyst"\?/,
  },
  {
    name: 'an unknown template',
    args: ['role', 'create', '--from-template', 'analyts'],
    message: /role "analyts" not found; did you mean "analyst"/,
  },
  {
    name: 'an API key given as --api-key-env',
    args: ['agent', 'update', 'ada', '--api-key-env', 'sk-proj-abcdefghijklmnopqrstuvwxyz123456'],
    message: /model\.apiKeyEnv: looks like an API key: give the NAME of an environment variable/,
  },
  {
    name: 'updating a predefined role',
    args: ['role', 'update', 'analyst', '--name', 'Mine'],
    message: /role "analyst" is predefined and cannot be updated/,
    code: 'IMMUTABLE_ROLE',
  },
  {
    name: 'deleting a predefined role',
    args: ['role', 'delete', 'critic'],
    message: /role "critic" is predefined and cannot be deleted/,
    code: 'IMMUTABLE_ROLE',
  },
  {
    name: 'deleting a personality agents use',
    args: ['personality', 'delete', 'calm'],
    message: /personality "calm" is used by 2 agents: ada, otto; delete with cascade/,
    code: 'REFERENCE_IN_USE',
  },
  {
    name: 'deleting a role agents use',
    args: ['role', 'delete', 'reviewer'],
    message: /role "reviewer" is used by 2 agents: ada, otto/,
    code: 'REFERENCE_IN_USE',
  },
  {
    name: 'reassigning to a missing personality',
    args: ['personality', 'delete', 'calm', '--reassign', 'clam'],
    message: /personality "clam" not found/,
  },
  {
    name: 'creating what exists',
    args: ['personality', 'create', '--from', 'calm.yaml'],
    message: /personality "calm" already exists/,
    code: 'ALREADY_EXISTS',
  },
  {
    name: 'a role id taken by a predefined role',
    args: ['role', 'create', '--name', 'Analyst', '--system-prompt', 'x'],
    message: /role "analyst" is a predefined role; choose another id/,
  },
  {
    name: 'a stale --expect-revision',
    args: ['agent', 'update', 'ada', '--name', 'A', '--expect-revision', '3'],
    message: /expected revision 3, found 1/,
    code: 'CONCURRENT_MODIFICATION',
  },
  {
    name: 'showing what does not exist',
    args: ['agent', 'show', 'adaa'],
    message: /agent "adaa" not found; did you mean "ada"\?/,
    code: 'NOT_FOUND',
  },
  {
    name: 'deleting what does not exist',
    args: ['agent', 'delete', 'nobody'],
    message: /agent "nobody" not found/,
    code: 'NOT_FOUND',
  },
  {
    name: 'a temperature out of range',
    args: ['agent', 'update', 'ada', '--temperature', '3'],
    message: /model\.temperature/,
  },
  {
    name: 'changing an id by patch',
    args: ['agent', 'update', 'ada', '--from', 'rename.json'],
    message: /id cannot be changed/,
  },
  {
    name: 'a model the role cannot run on',
    args: ['agent', 'update', 'ada', '--role', 'developer', '--model', 'llama3.1'],
    message: /role "developer" needs a model with "code"/,
  },
];

describe('bad input: exit 1, a clear message, nothing on disk changes', () => {
  it.each(CASES)('$name', async ({ args, message, code, exit = 1 }) => {
    const { root, t } = await seeded();
    for (const [name, text] of Object.entries(FILES)) await write(root, name, text);
    await write(root, 'rename.json', '{"id": "bob"}');
    const before = await snapshot(root);

    const r = await t(...args);
    expect(r.code, r.stderr).toBe(exit);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toMatch(message);
    expect(await snapshot(root)).toEqual(before);

    const j = await t(...args, '--json');
    expect(j.code).toBe(exit);
    expect(j.stdout).toBe('');
    const err = j.error();
    expect(err.message).toMatch(message);
    if (code) expect(err.code).toBe(code);
    expect(await snapshot(root)).toEqual(before);
  });

  it('never echoes an API key back', async () => {
    const { t } = await seeded();
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz123456';
    const r = await t('agent', 'update', 'ada', '--api-key-env', key);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain(key);
    expect((await t('agent', 'update', 'ada', '--api-key-env', key, '--json')).stderr).not.toContain(key);
  });

  it('a directory that is not a Troupe directory: exit 1, nothing created', async () => {
    const root = await tempDir();
    await write(root, 'notes.txt', 'hello');
    const before = await snapshot(root);
    for (const args of [
      ['personality', 'list'],
      ['validate'],
      ['agent', 'create', '--name', 'x'],
      ['export'],
    ]) {
      const r = await cli(root, root)(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: ${root} is not a troupe directory`);
      expect(r.stderr).toContain('troupe init');
    }
    const j = await cli(join(root, 'missing'), root)('role', 'list', '--json');
    expect(j.error().code).toBe('NOT_A_TROUPE_DIRECTORY');
    expect(await snapshot(root)).toEqual(before);
  });

  it('a file edited by hand into an invalid state is named with its field, and blocks writes that need it', async () => {
    const { root, dir, t } = await seeded();
    const p = JSON.parse(await readFile(join(dir, 'personalities', 'calm.json'), 'utf8'));
    p.bigFive.openness = 'very';
    await write(dir, 'personalities/calm.json', JSON.stringify(p, null, 2));
    const before = await snapshot(root);
    // A listing shows the rest, warning of it.
    const list = await t('personality', 'list');
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(
      /^warning: personalities\/calm\.json[\s\S]*bigFive\.openness: must be an integer 0–100, got "very"[\s\S]*left out of the list/,
    );
    for (const args of [
      ['personality', 'show', 'calm'],
      ['personality', 'update', 'calm', '--name', 'Fixed?'],
      [
        'agent',
        'create',
        '--name',
        'New',
        '--personality',
        'calm',
        '--role',
        'reviewer',
        '--model',
        'gpt-4o',
      ],
    ]) {
      const r = await t(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(
        /personalities\/calm\.json[\s\S]*bigFive\.openness: must be an integer 0–100, got "very"/,
      );
    }
    expect(await snapshot(root)).toEqual(before);
  });

  it('a hand-written file with invalid JSON is named with line and column', async () => {
    const { root, dir, t } = await seeded();
    await write(dir, 'roles/reviewer.json', '{\n  "id": "reviewer",\n  "name": \n}\n');
    const before = await snapshot(root);
    const r = await t('role', 'show', 'reviewer');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/roles\/reviewer\.json: invalid JSON at line \d+ column \d+/);
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('a FIFO named as an input or output file', () => {
  it('is refused at once, naming it, never waited on (no writer or reader would ever come)', async () => {
    const { root, t } = await seeded();
    const elsewhere = await tempDir();
    const fifo = join(elsewhere, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const before = await snapshot(root);
    for (const args of [
      ['apply', '-f', fifo],
      ['diff', '-f', fifo],
      ['import', fifo],
      ['personality', 'create', '--from', fifo],
      ['workflow', 'run', fifo],
    ]) {
      const r = await t(...args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([
        1,
        `error: ${fifo}: cannot read file (not a regular file)\n`,
      ]);
    }
    const out = await t('export', '-o', fifo);
    expect([out.code, out.stderr]).toEqual([1, `error: ${fifo}: cannot write (a FIFO no one reads)\n`]);
    expect(await snapshot(root)).toEqual(before);
    // A device is written as ever.
    expect((await t('export', '-o', '/dev/null')).code).toBe(0);
  });
});

describe("an output path inside the configuration directory's own folders", () => {
  it('is refused by export and schema, links followed, and nothing there changes', async () => {
    const { root, dir, t } = await seeded();
    await symlink(join(dir, '.troupe', 'store.json'), join(root, 'innocent.json'));
    const before = await snapshot(dir);
    for (const [target, folder] of [
      [join(dir, '.troupe', 'store.json'), '.troupe'],
      [join(dir, '.troupe', 'journal'), '.troupe'],
      [join(dir, 'personalities', 'evil.json'), 'personalities'],
      [join(dir, 'agents', 'new', 'x.json'), 'agents'],
      [join(root, 'innocent.json'), '.troupe'],
    ] as const) {
      const r = await t('export', '-o', target, '--json');
      expect([r.code, r.error().code], target).toEqual([2, 'USAGE']);
      expect(r.error().message).toContain(`is inside the configuration directory's own ${folder}/ folder`);
    }
    const schema = await t('schema', '-o', join(dir, 'agents'));
    expect(schema.code).toBe(2);
    expect(await snapshot(dir)).toEqual(before);
    expect((await t('validate')).code).toBe(0);
    // Beside the folders, and the schemas' own place, are fine.
    expect((await t('export', '-o', join(dir, 'cast.json'))).code).toBe(0);
    expect((await t('schema', '-o', join(dir, '.troupe', 'schemas'))).code).toBe(0);
  });
});

describe('an input file nested past any entity', () => {
  it.each(['deep.json', 'deep.yaml'])(
    '%s is refused naming the file and the field, nothing written',
    async (name) => {
      const { root, t } = await seeded();
      const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
      await write(root, name, `{"personalities": [{"id": "x", "name": "X", "description": ${deep}}]}`);
      const before = await snapshot(root);
      for (const args of [
        ['apply', '-f', name],
        ['personality', 'create', '--from', name],
      ]) {
        const r = await t(...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(
          /^error: deep\.(json|yaml): [a-z0-9.]*…: is nested more than 64 levels deep\n$/,
        );
      }
      expect(await snapshot(root)).toEqual(before);
    },
  );
});
