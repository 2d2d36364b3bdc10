import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkListen } from '../../src/server/auth.js';
import { apiOver, calm } from './harness.js';

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.map((o) => o.close()));
  open = [];
});
const api = async () => {
  const a = await apiOver();
  open.push(a);
  return a;
};

/** The API over a cast of one: personality calm, and agent ada using it (predefined role analyst). */
const withAda = async () => {
  const a = await api();
  await a.call('POST', '/personalities', calm);
  await a.call('POST', '/agents', {
    id: 'ada',
    name: 'Ada',
    personalityId: 'calm',
    roleId: 'analyst',
    model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
  });
  return a;
};

describe('the HTTP API at its edges', () => {
  it('lists and reads the whole model catalog, shipped entries included, as `troupe models list` does', async () => {
    const { call, config } = await api();
    const catalog = await config.services.models.catalog();
    const listed = await call('GET', '/models');
    expect(listed.status).toBe(200);
    expect(listed.json.map((m: { id: string }) => m.id)).toEqual(catalog.map((m) => m.id));
    const shipped = catalog[0]!;
    const one = await call('GET', `/models/${shipped.id}`);
    expect([one.status, one.json.id]).toEqual([200, shipped.id]);
    expect(one.headers.get('etag')).toBeNull(); // shipped: no revision of this store's
    expect((await call('GET', '/models/no-such-model')).status).toBe(404);
  });

  it('tells the way out of a predefined role or a shipped model in both terms, the CLI and HTTP', async () => {
    const { call } = await api();
    const role = await call('PATCH', '/roles/analyst', { name: 'Mine' });
    expect(role.json.error.code).toBe('IMMUTABLE_ROLE');
    expect(role.json.error.message).toContain('HTTP: POST /api/roles?template=analyst');
    const model = await call('PATCH', '/models/gpt-4o', { name: 'Mine' });
    expect(model.json.error.message).toContain('ships with troupe and cannot be updated');
    expect(model.json.error.message).toContain('HTTP: POST /api/models');
  });

  it('never quotes back a key of no known format pasted where a number belongs', async () => {
    const { call, dir } = await withAda();
    for (const key of ['3f9a1c7e5b2d4086a1e9c3b7d5f20e4c', 'Zq9mK2pLx7vN4wR8tY1uE6iO3aS5dF0g']) {
      const r = await call('PATCH', '/agents/ada', { model: { temperature: key } });
      expect(r.status, dir).toBe(422);
      expect(r.json.error.issues[0]).toMatchObject({ path: 'model.temperature' });
      expect(r.text).not.toContain(key);
    }
  });

  it('refuses a body nested ten thousand levels deep with 422, not a 500', async () => {
    const { call, store } = await api();
    await call('POST', '/personalities', calm);
    const body = `{"name":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    for (const [method, path] of [
      ['PATCH', '/personalities/calm'],
      ['POST', '/personalities'],
    ] as const) {
      const r = await call(method, path, body);
      expect([r.status, r.json.error.code], `${method} ${path}`).toEqual([422, 'VALIDATION_FAILED']);
    }
    expect(await store.get('personalities', 'calm')).toMatchObject({ name: 'Calm', revision: 1 });
  });

  it('a body that is no JSON object, or not UTF-8, is refused with 400 and changes nothing', async () => {
    const { call, app, store } = await api();
    await call('POST', '/personalities', calm);
    for (const body of ['"abc"', '[1,2]', 'null', '7']) {
      const r = await call('PATCH', '/personalities/calm', body);
      expect([r.status, r.json.error.message], body).toEqual([
        400,
        expect.stringMatching(/^the request body must be a JSON object, got /),
      ]);
    }
    const res = await app.request('/api/personalities/calm', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([...Buffer.from('{"description":"caf'), 0xe9, ...Buffer.from('"}')]),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toBe('the request body is not UTF-8');
    expect(await store.get('personalities', 'calm')).toMatchObject({ revision: 1 });
    expect((await store.get('personalities', 'calm')) as object).not.toHaveProperty('description');
  });

  it('If-None-Match is never ignored: a read of the tag held answers 304, a write conditioned on it is refused', async () => {
    const { call, config } = await api();
    await call('POST', '/personalities', calm);
    const read = await call('GET', '/personalities/calm');
    const tag = read.headers.get('etag')!;
    for (const held of [tag, `W/${tag}`, `"r0", ${tag}`, '*']) {
      const again = await call('GET', '/personalities/calm', undefined, { 'If-None-Match': held });
      expect([again.status, again.text, again.headers.get('etag')], held).toEqual([304, '', tag]);
    }
    expect((await call('GET', '/personalities/calm', undefined, { 'If-None-Match': '"r0"' })).status).toBe(
      200,
    );
    for (const [method, body] of [
      ['PATCH', { name: 'Overwritten' }],
      ['DELETE', undefined],
    ] as const) {
      const w = await call(method, '/personalities/calm', body, { 'If-None-Match': '*' });
      expect([w.status, w.json.error.code, w.json.error.context], method).toEqual([
        400,
        'USAGE',
        { field: 'If-None-Match' },
      ]);
    }
    expect((await config.services.personalities.require('calm')).name).toBe(calm.name);
  });

  it('an If-Match past any revision is a bad tag (400), not a validation error of a run', async () => {
    const { call, config } = await api();
    await call('POST', '/personalities', calm);
    const runs = (await config.listRuns()).length;
    const r = await call(
      'PATCH',
      '/personalities/calm',
      { name: 'X' },
      { 'If-Match': '"r99999999999999999999"' },
    );
    expect([r.status, r.json.error.code, r.json.error.context]).toEqual([
      400,
      'USAGE',
      { field: 'If-Match' },
    ]);
    expect((await config.listRuns()).length).toBe(runs);
  });

  it('a delete refused or reassigned to nothing says so in terms of the request, naming the field', async () => {
    const { call } = await withAda();
    const blocked = await call('DELETE', '/personalities/calm');
    expect([blocked.status, blocked.json.error.code]).toEqual([409, 'REFERENCE_IN_USE']);
    expect(blocked.json.error.message).toContain('?mode=cascade, ?mode=reassign&to=<personality-id>');
    const r = await call('DELETE', '/personalities/calm?mode=reassign&to=nope');
    expect([r.status, r.json.error.message]).toEqual([
      404,
      'personality "calm": reassign: personality "nope" not found',
    ]);
    expect(r.json.error.context).toMatchObject({ field: 'reassign', entity: 'personality "calm"' });
  });

  it('a trailing slash names the same route', async () => {
    const { call } = await api();
    expect((await call('POST', '/personalities/', calm)).status).toBe(201);
    expect((await call('GET', '/personalities/')).json.map((p: { id: string }) => p.id)).toEqual(['calm']);
    expect((await call('GET', '/personalities/calm/')).json.id).toBe('calm');
  });

  it('the feed refuses a position that is no plain whole number, and parameters it does not take', async () => {
    const { call } = await api();
    for (const q of ['from=', 'from=1e1', 'from=-1', 'form=3'])
      expect((await call('GET', `/feed?${q}`)).status, q).toBe(400);
  });

  it('a query parameter given twice, to= without a reassign, or a body to a DELETE is refused, never half taken; nothing is written', async () => {
    const { call, store } = await withAda();
    const twice = await call('POST', '/apply?dryRun=true&dryRun=false', {
      personalities: [{ ...calm, name: 'X' }],
    });
    expect([twice.status, twice.json.error.code, twice.json.error.message]).toEqual([
      400,
      'USAGE',
      'POST /api/apply: "dryRun" is given 2 times in the query: give it once',
    ]);
    const remove = await call('DELETE', '/personalities/calm?mode=cascade&mode=block');
    expect([remove.status, remove.json.error.message]).toEqual([
      400,
      'DELETE /api/personalities/{id}: "mode" is given 2 times in the query: give it once',
    ]);
    expect((await call('GET', '/feed?from=1&from=2')).status).toBe(400);
    // to= is for a reassign: a cascade or a block sent with it is refused, never taken alone.
    for (const q of ['mode=cascade&to=nope', 'mode=block&to=calm', 'to=calm']) {
      const r = await call('DELETE', `/personalities/calm?${q}`);
      expect([q, r.status, r.json.error.message]).toEqual([
        q,
        400,
        `to= is for mode=reassign, not mode=${q.startsWith('mode=cascade') ? 'cascade' : 'block'}: give one of them`,
      ]);
    }
    // A DELETE takes no body: what it asks would not be done.
    const bodied = JSON.stringify({ mode: 'cascade' });
    const withBody = await call('DELETE', '/agents/ada', bodied, { 'content-length': String(bodied.length) });
    expect([withBody.status, withBody.json.error.message]).toEqual([
      400,
      'DELETE /api/agents/{id} takes no request body',
    ]);
    expect((await store.get('personalities', 'calm'))?.revision).toBe(1);
    expect((await store.get('agents', 'ada'))?.revision).toBe(1);
  });

  it('a list leaves out a file broken by hand, naming it in Troupe-Left-Out, as the CLI lists what it can read', async () => {
    const { call, dir } = await withAda();
    await writeFile(join(dir, 'personalities', 'hand.json'), '{"garbage');
    const listed = await call('GET', '/personalities');
    expect(listed.status).toBe(200);
    expect(listed.json.map((p: { id: string }) => p.id)).toEqual(['calm']);
    expect(listed.headers.get('troupe-left-out')).toBe(encodeURIComponent('personalities/hand.json'));
    // Nothing broken, no header.
    expect((await call('GET', '/agents')).headers.get('troupe-left-out')).toBeNull();
  });

  it('refuses at start a token with a space or line break in it (no client could ever send it)', () => {
    for (const token of ['correct horse battery staple', 'abcdefghijklmnopqrstuvwx\n'])
      expect(() => checkListen('127.0.0.1', { write: token }), JSON.stringify(token)).toThrow(
        /TROUPE_TOKEN must be printable ASCII with no spaces or line breaks/,
      );
    expect(() => checkListen('127.0.0.1', { read: 'abcdefghijklmnop\t' })).toThrow(/TROUPE_READ_TOKEN/);
  });
});

describe('the OpenAPI document says what the server does', () => {
  type Op = {
    requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
    responses: Record<string, unknown>;
  };
  const documented = async () => {
    const { app, call } = await api();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      servers: Array<{ url: string }>;
      paths: Record<string, Record<string, Op>>;
      components: unknown;
    };
    return { doc, call };
  };

  it('its paths are under the server URL it names, the feed among them', async () => {
    const { doc, call } = await documented();
    expect(doc.servers).toEqual([{ url: '/api' }]);
    expect(doc.paths['/feed']?.get).toBeDefined();
    // A documented path, under that URL, is served.
    expect((await call('GET', '/personalities')).status).toBe(200);
  });

  it('a create answers 201, a write may answer 204, a revisioned write 412, with their codes in the error schema', async () => {
    const { doc, call } = await documented();
    const create = doc.paths['/personalities']!.post!;
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '204']));
    expect(create.responses).not.toHaveProperty('200');
    expect((await call('POST', '/personalities', calm)).status).toBe(201);
    const patch = doc.paths['/personalities/{id}']!.patch!;
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '204', '412']));
    const codes = JSON.stringify(doc).match(/"enum":\[("[A-Z_]+",?)+\]/)?.[0] ?? '';
    for (const code of ['PRECONDITION_FAILED', 'UNSUPPORTED_MEDIA_TYPE', 'METHOD_NOT_ALLOWED', 'USAGE'])
      expect(codes, code).toContain(`"${code}"`);
  });

  it('a PATCH body is a merge patch: no field required, any may be null, unknown fields still refused', async () => {
    const { doc } = await documented();
    const body = doc.paths['/personalities/{id}']!.patch!.requestBody!.content;
    expect(Object.keys(body)).toEqual(['application/json', 'application/merge-patch+json']);
    const schema = body['application/json']!.schema as {
      required?: string[];
      additionalProperties?: unknown;
      properties: Record<string, { anyOf: Array<{ type?: string; required?: string[] }> }>;
    };
    expect(schema.required).toBeUndefined();
    expect(schema.additionalProperties).toBe(false);
    const bigFive = schema.properties.bigFive!.anyOf;
    expect(bigFive).toContainEqual({ type: 'null' });
    expect(bigFive[0]!.required).toBeUndefined(); // {"bigFive": {"openness": 80}} is a valid patch
  });

  it("an agent's resolved configuration says its sync state, and is refused when edited by hand or broken", async () => {
    const { call, dir } = await withAda();
    const ok = await call('GET', '/agents/ada/resolved');
    expect([ok.status, ok.headers.get('troupe-sync-status')]).toEqual([200, 'synchronized']);
    // Its personality edited by hand: still served, said to be stale.
    const pFile = join(dir, 'personalities', 'calm.json');
    const p = JSON.parse(await readFile(pFile, 'utf8'));
    await writeFile(pFile, JSON.stringify({ ...p, bigFive: { ...p.bigFive, openness: 3 } }));
    const stale = await call('GET', '/agents/ada/resolved');
    expect([stale.status, stale.headers.get('troupe-sync-status')]).toEqual([200, 'stale']);
    // Its resolved file edited by hand: not what was composed for it.
    const rFile = join(dir, 'resolved', 'ada.json');
    const r = JSON.parse(await readFile(rFile, 'utf8'));
    await writeFile(
      rFile,
      JSON.stringify({ ...r, configuration: { ...r.configuration, systemPrompt: 'Obey.' } }),
    );
    const edited = await call('GET', '/agents/ada/resolved');
    expect(edited.status).toBe(422);
    expect(edited.json.error.message).toMatch(/it is not the configuration composed for agent "ada"/);
    await writeFile(rFile, JSON.stringify(r));
    // Its personality gone: broken.
    await rm(pFile);
    const broken = await call('GET', '/agents/ada/resolved');
    expect(broken.status).toBe(422);
    expect(broken.json.error.message).toMatch(/^agent "ada" is broken: personality "calm" is missing;/);
  });

  it('an agent read or listed says its sync state judged now, and its ETag still writes', async () => {
    const { call, dir } = await withAda();
    const before = await call('GET', '/agents/ada');
    expect([before.json.syncStatus, before.headers.get('troupe-sync-status')]).toEqual([
      'synchronized',
      'synchronized',
    ]);
    // Its personality edited by hand: the stored agent still says synchronized; the read does not.
    const pFile = join(dir, 'personalities', 'calm.json');
    const p = JSON.parse(await readFile(pFile, 'utf8'));
    await writeFile(pFile, JSON.stringify({ ...p, bigFive: { ...p.bigFive, openness: 3 } }));
    const stale = await call('GET', '/agents/ada');
    expect([stale.status, stale.json.syncStatus, stale.headers.get('troupe-sync-status')]).toEqual([
      200,
      'stale',
      'stale',
    ]);
    // What drifted is at /states; the body can go back as a patch.
    expect(stale.json.drift).toBeUndefined();
    const states = await call('GET', '/states');
    expect(states.json[0].drift.join(' ')).toMatch(/calm/);
    expect(stale.headers.get('etag')).toBe(before.headers.get('etag'));
    const listed = await call('GET', '/agents');
    expect(listed.json.map((a: { id: string; syncStatus: string }) => [a.id, a.syncStatus])).toEqual([
      ['ada', 'stale'],
    ]);
    // The tag read names the stored document: a GET and a PATCH on it match.
    const tag = stale.headers.get('etag')!;
    expect((await call('GET', '/agents/ada', undefined, { 'If-Match': tag })).status).toBe(200);
    const patched = await call(
      'PATCH',
      '/agents/ada',
      { ...stale.json, name: 'Ada Two' },
      { 'If-Match': tag },
    );
    expect([patched.status, patched.json.name]).toEqual([200, 'Ada Two']);
  });
});
