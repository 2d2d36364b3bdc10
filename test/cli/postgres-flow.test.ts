import { afterEach, describe, expect, it } from 'vitest';
import {
  dropSchema,
  freshSchema,
  inSchema,
  postgresUnavailable,
  TEST_POSTGRES_URL,
} from '../../src/postgres/test-db.test-helper.js';
import { run, tempDir } from './helpers.js';

// The README's everyday commands, run unchanged with --store postgres://… (the representative
// part of the CLI suite that runs on PostgreSQL; the race and watch tests run there too).
const skip = await postgresUnavailable();
const schemas: string[] = [];
afterEach(async () => {
  await Promise.all(schemas.splice(0).map((s) => dropSchema(s)));
});

/** `troupe agent create` of Ada on personality calm-analyst and the given role. */
const ada = (role: string) => [
  'agent',
  'create',
  '--name',
  'Ada',
  '--personality',
  'calm-analyst',
  '--role',
  role,
  '--model',
  'gpt-4o',
];

/** A directory store with Ada on calm-analyst and developer, and `troupe --dir DIR …` on it. */
async function castDirectory() {
  const dir = await tempDir();
  const d = (...args: string[]) => run(['--dir', dir, ...args]);
  await d('init');
  await d('personality', 'create', '--preset', 'calm-analyst');
  await d(...ada('developer'));
  return { dir, d };
}

/** `troupe --store URL …` in-process, in a fresh schema of the test database. */
function database() {
  const schema = freshSchema();
  schemas.push(schema);
  const url = inSchema(schema);
  return { url, t: (...args: string[]) => run(['--store', url, ...args]) };
}

describe.runIf(!skip)('the everyday commands on PostgreSQL', () => {
  it('init, create, cascade, validate, runs, export and apply, delete: as on a directory', async () => {
    const { t } = database();
    expect((await t('init')).stdout).toMatch(
      /Initialised a troupe store at postgres:\/\/postgres@127\.0\.0\.1:5432\/troupe_test\?schema=t_/,
    );
    expect((await t('init')).stdout).toContain('Already a troupe store');
    // A document in a database has no file: messages name it and the store it is in.
    const made = await t('personality', 'create', '--preset', 'calm-analyst');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(
      /→ personalities\/calm-analyst in postgres:\/\/postgres@127\.0\.0\.1:5432\/troupe_test\?schema=t_\w+\n/,
    );
    expect((await t('personality', 'show', 'calm-analyst')).stdout).not.toContain('.json');
    expect(
      (await t('role', 'create', '--from-template', 'developer', '--id', 'dev2', '--name', 'Dev2')).code,
    ).toBe(0);
    const created = await t(...ada('dev2'), '--json');
    expect(created.code, created.stderr).toBe(0);
    const upd = await t('personality', 'update', 'calm-analyst', '--trait', 'humor=40', '--json');
    expect(upd.json()).toMatchObject({ personality: { revision: 2 }, agents: ['ada'] });
    const stale = await t(
      'personality',
      'update',
      'calm-analyst',
      '--expect-revision',
      '1',
      '--trait',
      'humor=1',
      '--json',
    );
    expect([stale.code, stale.error().code]).toEqual([1, 'CONCURRENT_MODIFICATION']);
    expect((await t('validate')).stdout.trim()).toBe('valid');
    const runs = await t('workflow', 'list', '--json');
    expect(
      runs.json<Array<{ workflowId: string; state: string }>>().map((r) => `${r.workflowId} ${r.state}`),
    ).toEqual(
      expect.arrayContaining([
        'create-agent completed',
        'update-personality completed',
        'update-personality compensated',
      ]),
    );
    const dir = await tempDir();
    const file = `${dir}/cast.json`;
    expect((await t('export', '-o', file)).code).toBe(0);
    const diff = await t('diff', '-f', file);
    expect(diff.code, diff.stdout).toBe(0);
    const del = await t('personality', 'delete', 'calm-analyst', '--cascade', '--json');
    expect(del.json()).toMatchObject({ agentsDeleted: ['ada'] });
    expect((await t('agent', 'list', '--json')).json()).toEqual([]);
  });

  it('migrate moves a directory into the database and back, all of it, the source untouched', async () => {
    const { d } = await castDirectory();
    const { url, t } = database();
    // A dry run into a database with no store yet shows what it would take in, and makes nothing.
    const dry = await d('migrate', '--to', url, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const planned = dry.json<{ applied: boolean; changes: Array<{ action: string }> }>();
    expect(planned.applied).toBe(false);
    expect(planned.changes.map((c) => c.action)).toEqual(['create', 'create']);
    const none = await t('agent', 'list', '--json');
    expect([none.code, none.error().code]).toEqual([1, 'NOT_A_TROUPE_DIRECTORY']);
    const moved = await d('migrate', '--to', url);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('2 created');
    expect((await t('agent', 'list', '--json')).json()).toMatchObject([
      { id: 'ada', personalityId: 'calm-analyst' },
    ]);
    expect((await t('validate')).stdout.trim()).toBe('valid');
    expect((await d('agent', 'list', '--json')).json()).toMatchObject([{ id: 'ada', revision: 1 }]);
    // Each copy keeps when it was first created, there and back again.
    const createdAt = async (r: typeof t) =>
      [
        ...(await r('agent', 'list', '--json')).json<Array<{ id: string; createdAt: string }>>(),
        ...(await r('personality', 'list', '--json')).json<Array<{ id: string; createdAt: string }>>(),
      ].map((e) => [e.id, e.createdAt]);
    const original = await createdAt(d);
    expect(await createdAt(t)).toEqual(original);
    // Back into a fresh directory: the same cast, and nothing left to move the second time.
    const back = await tempDir();
    await run(['--dir', back, 'init']);
    expect((await t('migrate', '--to', back)).code).toBe(0);
    expect(await createdAt((...args: string[]) => run(['--dir', back, ...args]))).toEqual(original);
    const again = await t('migrate', '--to', back, '--json');
    expect(
      again.json<{ changes: Array<{ action: string }> }>().changes.every((c) => c.action === 'unchanged'),
    ).toBe(true);
    const same = await t('migrate', '--to', url);
    expect([same.code, same.stderr]).toEqual([2, expect.stringContaining('is the store being migrated')]);
  });

  it('a migrate into a database with no store that the bundle cannot go into creates no store', async () => {
    const { dir, d } = await castDirectory();
    // Broken by hand: the agent's role is gone.
    const agent = `${dir}/agents/ada.json`;
    const { readFile, writeFile } = await import('node:fs/promises');
    await writeFile(
      agent,
      (await readFile(agent, 'utf8')).replace('"roleId": "developer"', '"roleId": "no-such-role"'),
    );
    const { url, t } = database();
    const r = await d('migrate', '--to', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-role');
    const none = await t('agent', 'list', '--json');
    expect([none.code, none.error().code]).toEqual([1, 'NOT_A_TROUPE_DIRECTORY']);
  });

  it('a store that is not there is an error, never a new empty one; no password is echoed', async () => {
    const { url, t } = database();
    for (const args of [['agent', 'list'], ['migrate', '--to', await tempDir(), '--prune'], ['watch']]) {
      const r = await t(...args, '--json');
      expect([r.code, r.error().code], r.stderr).toEqual([1, 'NOT_A_TROUPE_DIRECTORY']);
      expect(r.error().message).toContain('run `troupe init --store …` to create one');
    }
    // Nothing was created by those: init is what creates.
    expect((await t('init', '--json')).json()).toMatchObject({ created: true });
    const secret = new URL(url);
    secret.searchParams.set('password', 'hunter2-in-the-url');
    const r = await run(['--dir', 'elsewhere', '--store', secret.toString(), 'agent', 'list', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).toContain(`?schema=${secret.searchParams.get('schema')}`);
  });

  it('a database not there, or a refused password, is said as such; a bad URL is shown how to write one', async () => {
    const gone = new URL(TEST_POSTGRES_URL);
    gone.pathname = '/troupe_no_such_database';
    const r = await run(['--store', gone.toString(), 'agent', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed to open the store: database "troupe_no_such_database" does not exist/);
    expect(r.stderr).not.toContain('migrate');
    const refused = new URL(TEST_POSTGRES_URL);
    refused.password = 'wrong-hunter2';
    const p = await run(['--store', refused.toString(), 'agent', 'list']);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/failed to open the store: password authentication failed for user "postgres"/);
    expect(p.stderr).not.toContain('hunter2');
    const bad = await run(['--store', 'postgres://u:hunter2secret@127.0.0.1:99999/db', 'agent', 'list']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('postgres://USER@HOST:PORT/DATABASE, with USER:PASSWORD@ for a password');
    expect(bad.stderr).not.toMatch(/hunter2secret|\[redacted\]/);
  });
});
