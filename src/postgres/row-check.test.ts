import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { detectInconsistencies } from '../configuration/consistency.js';
import { calm } from '../configuration/test-setup.test-helper.js';
import { instances } from './instances.test-helper.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

describe.each(engines.map((e) => [e]))('a row edited by hand with SQL, on %s', (engine) => {
  it('holding what no entity may is refused by every read of it and listed by validate, as a file is', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!);
    for (const id of ['a', 'b', 'c']) await config.createPersonality({ ...calm, id, name: id });
    // A NUL in one row's name, a lone surrogate in another's, an out-of-range trait in a third.
    await store!.sql.exec(
      `UPDATE troupe_documents SET doc = replace(doc::text, '"name":"b"', '"name":"b\\u0000x"')::json WHERE id = 'b';
       UPDATE troupe_documents SET doc = replace(doc::text, '"name":"c"', '"name":"c\\ud800x"')::json WHERE id = 'c';
       UPDATE troupe_documents SET doc = jsonb_set(doc::jsonb, '{bigFive,openness}', '500')::json WHERE id = 'a'`,
    );
    await expect(store!.get('personalities', 'b')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'personalities/b: name: contains the control or direction-override character U+0000',
    });
    await expect(store!.list('personalities')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const found = (await detectInconsistencies(config.services)).map((i) => i.message);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/bigFive\.openness: must be an integer 0–100, got 500/),
        'personalities/b: name: contains the control or direction-override character U+0000',
        expect.stringMatching(/^personalities\/c: name: contains a lone surrogate U\+D800/),
      ]),
    );
  });

  it('a row of a kind troupe does not know is named by validate, never read, and nothing else is judged by it', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!);
    await config.createPersonality({ ...calm, id: 'calm' });
    // A typo of a kind in hand-written SQL, and a name with a line break that must not forge output.
    await store!.sql.exec(
      `INSERT INTO troupe_documents (kind, id, revision, doc) VALUES
         ('personality', 'calm', 1, '{"id":"calm","name":"Typo"}'),
         (E'agent\nerror: forged', 'x', 1, '{"id":"x"}')`,
    );
    expect(await store!.strays()).toEqual([
      { file: 'agent\\u{A}error: forged/x', why: expect.stringMatching(/^a row of no kind troupe knows/) },
      { file: 'personality/calm', why: expect.stringMatching(/^a row of no kind troupe knows/) },
    ]);
    const found = await detectInconsistencies(config.services);
    expect(found.map((f) => [f.kind, f.file])).toEqual([
      ['stray-file', 'agent\\u{A}error: forged/x'],
      ['stray-file', 'personality/calm'],
    ]);
    expect((await store!.list('personalities')).map((p) => p.name)).toEqual([calm.name]);
  });

  it('an agent row edited past its schema is reported itself: its resolved row is no orphan, nothing is offered to fix', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!);
    await config.createAgent({
      agent: {
        id: 'a',
        name: 'A',
        personalityId: 'calm',
        roleId: 'analyst',
        model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      },
      personality: { ...calm, id: 'calm' },
    });
    await store!.sql.exec(
      `UPDATE troupe_documents SET doc = jsonb_set(doc::jsonb, '{model}', '"oops"')::json WHERE kind = 'agents'`,
    );
    const found = await detectInconsistencies(config.services);
    expect(found.map((f) => [f.kind, f.file])).toEqual([['invalid-file', 'agents/a']]);
  });

  it("validate's findings about agents name rows, never files a database does not have", async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!);
    const agent = (id: string) => ({
      id,
      name: id.toUpperCase(),
      personalityId: 'calm',
      roleId: 'analyst',
      model: { provider: 'anthropic' as const, modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
    });
    await config.createAgent({ agent: agent('a'), personality: { ...calm, id: 'calm' } });
    await config.createAgent({ agent: agent('b') });
    // A personality edited past its agents, one agent's personality gone, a resolved row left alone.
    await store!.sql.exec(
      `UPDATE troupe_documents SET doc = jsonb_set(doc::jsonb, '{bigFive,openness}', '1')::json WHERE kind = 'personalities';
       UPDATE troupe_documents SET doc = jsonb_set(doc::jsonb, '{personalityId}', '"gone"')::json WHERE kind = 'agents' AND id = 'b';
       INSERT INTO troupe_documents (kind, id, revision, doc) SELECT kind, 'c', revision, jsonb_set(doc::jsonb, '{id}', '"c"')::json FROM troupe_documents WHERE kind = 'resolved' AND id = 'a'`,
    );
    const found = await detectInconsistencies(config.services);
    expect(found.map((f) => [f.kind, f.file])).toEqual(
      expect.arrayContaining([
        ['stale-agent', 'agents/a'],
        ['dangling-reference', 'agents/b'],
        ['resolved-orphaned', 'resolved/c'],
      ]),
    );
    expect(JSON.stringify(found)).not.toContain('.json');
  });

  it('no JSON object, or naming another id than its row, is refused naming the row, not a crash or an absence', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!);
    for (const id of ['n', 'a', 'q']) await config.createPersonality({ ...calm, id, name: id });
    await store!.sql.exec(
      `UPDATE troupe_documents SET doc = 'null'::json WHERE id = 'n';
       UPDATE troupe_documents SET doc = '[1]'::json WHERE id = 'a';
       UPDATE troupe_documents SET doc = jsonb_set(doc::jsonb, '{id}', '"z"')::json WHERE id = 'q'`,
    );
    const says = {
      n: 'personalities/n: must be a JSON object, got null',
      a: 'personalities/a: must be a JSON object, got an array',
      q: `personalities/q: id: is "z" but the row's id is "q"; they must match`,
    };
    for (const [id, message] of Object.entries(says)) {
      await expect(store!.get('personalities', id)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message,
      });
      // Not taken for absent: a create of its id is refused, not made again at revision 1.
      await expect(config.createPersonality({ ...calm, id, name: id })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
    const found = (await detectInconsistencies(config.services)).map((i) => i.message);
    // validate names each with its path, as it does a file's ("(root)" for the whole).
    expect(found).toEqual(
      expect.arrayContaining([
        'personalities/n: (root): must be a JSON object, got null',
        'personalities/a: (root): must be a JSON object, got an array',
        says.q,
      ]),
    );
  });
});
