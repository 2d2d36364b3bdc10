import { describe, expect, it } from 'vitest';
import { COMMANDS, run, seeded, snapshot } from './helpers.js';

describe('usage errors exit 2 and change nothing', () => {
  it.each([
    { name: 'an unknown command', args: ['frobnicate'], message: /unknown command 'frobnicate'/ },
    {
      name: 'an unknown subcommand',
      args: ['agent', 'lsit'],
      message: /unknown command 'lsit'[\s\S]*Did you mean list\?/,
    },
    {
      name: 'an unknown option',
      args: ['personality', 'list', '--colour'],
      message: /unknown option '--colour'/,
    },
    { name: 'a missing argument', args: ['personality', 'show'], message: /missing required argument 'id'/ },
    { name: 'an extra argument', args: ['personality', 'list', 'extra'], message: /too many arguments/ },
    {
      name: 'a missing option value',
      args: ['agent', 'create', '--name'],
      message: /option '--name <name>' argument missing/,
    },
    {
      name: 'a temperature that is not a number',
      args: ['agent', 'update', 'ada', '--temperature', 'warm'],
      message: /'--temperature <n>' argument 'warm' is invalid\. expected a number, got "warm"/,
    },
    {
      name: 'max tokens that is not a whole number',
      args: ['agent', 'update', 'ada', '--max-tokens', '1.5'],
      message: /expected a whole number of at least 1, got "1.5"/,
    },
    {
      name: 'a bad --expect-revision',
      args: ['agent', 'delete', 'ada', '--expect-revision', 'x'],
      message: /expected a whole number of at least 1, got "x"/,
    },
    {
      name: 'a hexadecimal --expect-revision',
      args: ['agent', 'delete', 'ada', '--expect-revision', '0x1'],
      message: /expected a whole number of at least 1, got "0x1"/,
    },
    {
      name: 'a --trait without =',
      args: ['personality', 'update', 'calm', '--trait', 'openness'],
      message: /expected name=value/,
    },
    {
      name: 'an unknown provider',
      args: ['agent', 'update', 'ada', '--provider', 'acme'],
      message: /Allowed choices are/,
    },
    {
      name: 'both --cascade and --reassign',
      args: ['personality', 'delete', 'calm', '--cascade', '--reassign', 'other'],
      message: /option '--cascade' cannot be used with option '--reassign <id>'/,
    },
    {
      name: 'an update with nothing to change',
      args: ['agent', 'update', 'ada'],
      message: /nothing to update/,
    },
    { name: 'a noun without a verb', args: ['role'], message: /Usage: troupe role/ },
  ])('$name', async ({ args, message }) => {
    const { root, t } = await seeded();
    const before = await snapshot(root);
    const r = await t(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(await snapshot(root)).toEqual(before);
  });

  it('--json turns a usage error into { error } with code USAGE on stderr', async () => {
    const { t } = await seeded();
    const r = await t('personality', 'delete', 'calm', '--cascade', '--reassign', 'x', '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.error()).toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('cannot be used with'),
    });
    const u = await t('agent', 'update', 'ada', '--json');
    expect(u.code).toBe(2);
    expect(u.error()).toMatchObject({ name: 'TroupeError', code: 'USAGE' });
  });
});

describe('help and version', () => {
  it('--help lists every command and documents the directory default and exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    }
    expect(r.stdout).toContain('$TROUPE_HOME, else the nearest ./.troupe-config/');
    expect(r.stdout).toContain('0 ok, 1 failed operation or invalid input/configuration, 2 usage error');
    expect(r.stderr).toBe('');
  });

  it('each noun has help listing its verbs and the global options', async () => {
    const r = await run(['agent', '--help']);
    expect(r.code).toBe(0);
    for (const v of ['create', 'list', 'show', 'update', 'delete']) expect(r.stdout).toContain(`  ${v}`);
    expect(r.stdout).toContain('--dir <dir>');
    expect(r.stdout).toContain('--json');
    const c = await run(['agent', 'create', '--help']);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('--api-key-env <NAME>');
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([
    ['--json', '--version'],
    ['--version', '--json'],
  ])('%s %s prints the version as JSON', async (...args) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
  });

  it.each([
    [['--json', 'help']],
    [['help', '--json']],
    [['agent', '--help', '--json']],
    [['agent', 'create', '--json', '--help']],
  ])('%j prints the help as JSON', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).help).toMatch(/^Usage: troupe /);
  });
});
