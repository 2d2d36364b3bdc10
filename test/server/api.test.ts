import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkListen, sameSecret, scopeOf } from '../../src/server/auth.js';
import { apiOver, calm } from './harness.js';

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.map((o) => o.close()));
  open = [];
});
const api = async (opts: Parameters<typeof apiOver>[0] = {}) => {
  const a = await apiOver(opts);
  open.push(a);
  return a;
};

describe('the HTTP API', () => {
  it('creates, reads and changes with revisions as ETags; a stale If-Match is 412 naming what changed, and writes nothing', async () => {
    const { call, store } = await api();
    const created = await call('POST', '/personalities', calm);
    expect(created.status).toBe(201);
    const r1 = created.headers.get('etag') as string;
    expect(r1).toMatch(/^"r1-[0-9a-f]{16}"$/);
    expect(created.headers.get('location')).toBe('/api/personalities/calm');
    const read = await call('GET', '/personalities/calm');
    expect(read.json.bigFive.openness).toBe(60);
    expect(read.headers.get('etag')).toBe(r1);

    const first = await call(
      'PATCH',
      '/personalities/calm',
      { bigFive: { openness: 80 } },
      { 'If-Match': r1 },
    );
    expect(first.status).toBe(200);
    const r2 = first.headers.get('etag') as string;
    expect(r2).toMatch(/^"r2-[0-9a-f]{16}"$/);
    // A second writer who read r1 too: refused, told which field moved and how.
    const late = await call('PATCH', '/personalities/calm', { name: 'Late' }, { 'If-Match': r1 });
    expect(late.status).toBe(412);
    expect(late.json.error.code).toBe('CONCURRENT_MODIFICATION');
    expect(late.json.conflict).toEqual({
      expected: r1,
      current: r2,
      changed: [{ path: 'bigFive.openness', from: 60, to: 80 }],
    });
    const now = await store.get('personalities', 'calm');
    expect(now?.revision).toBe(2);
    expect((now as unknown as { name: string }).name).toBe('Calm');

    const gone = await call('DELETE', '/personalities/calm', undefined, { 'If-Match': '"r1"' });
    expect(gone.status).toBe(412);
    expect(await store.get('personalities', 'calm')).toBeDefined();
    expect((await call('DELETE', '/personalities/calm', undefined, { 'If-Match': '"r2"' })).status).toBe(200);
    expect((await call('GET', '/personalities/calm')).status).toBe(404);
  });

  it('a file edited by hand since a tag was read keeps its revision, not its tag: the write is 412, nothing is written over', async () => {
    const { call, dir } = await api();
    const tag = (await call('POST', '/personalities', calm)).headers.get('etag') as string;
    const file = join(dir, 'personalities/calm.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, `${JSON.stringify({ ...doc, description: 'edited by hand' }, null, 2)}\n`);
    const read = await call('GET', '/personalities/calm');
    expect(read.headers.get('etag')).toMatch(/^"r1-/);
    expect(read.headers.get('etag')).not.toBe(tag);
    expect((await call('GET', '/personalities/calm', undefined, { 'If-Match': tag })).status).toBe(412);
    const late = await call('PATCH', '/personalities/calm', { description: 'client' }, { 'If-Match': tag });
    expect(late.status).toBe(412);
    expect(late.json.error.code).toBe('CONCURRENT_MODIFICATION');
    expect(late.json.conflict).toMatchObject({ expected: tag, current: read.headers.get('etag') });
    expect(JSON.parse(await readFile(file, 'utf8')).description).toBe('edited by hand');
    expect((await call('DELETE', '/personalities/calm', undefined, { 'If-Match': tag })).status).toBe(412);
    // With the tag read after the edit, the write goes through (and keeps what it does not change).
    const fresh = read.headers.get('etag') as string;
    const ok = await call('PATCH', '/personalities/calm', { name: 'Calmer' }, { 'If-Match': fresh });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ name: 'Calmer', description: 'edited by hand', revision: 2 });
    // A tag of the revision alone matches that revision whatever its content.
    expect((await call('GET', '/personalities/calm', undefined, { 'If-Match': '"r2"' })).status).toBe(200);
  });

  it('answers errors as JSON with the CLI codes: validation names the field, bad JSON and bad ETags are usage errors', async () => {
    const { call, store } = await api();
    const bad = await call('POST', '/personalities', {
      ...calm,
      bigFive: { ...calm.bigFive, openness: 600 },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('VALIDATION_FAILED');
    expect(bad.json.error.message).toContain('bigFive.openness');
    expect(bad.json.error.issues.some((i: { path: string }) => i.path.includes('openness'))).toBe(true);
    expect(await store.list('personalities')).toEqual([]);
    const notJson = await call('POST', '/personalities', '{"id": ');
    expect([notJson.status, notJson.json.error.code]).toEqual([400, 'USAGE']);
    const badTag = await call('PATCH', '/personalities/calm', { name: 'x' }, { 'If-Match': 'yesterday' });
    expect([badTag.status, badTag.json.error.code]).toEqual([400, 'USAGE']);
    const missing = await call('GET', '/agents/nobody');
    expect([missing.status, missing.json.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await call('GET', '/no-such-thing')).json.error.code).toBe('NOT_FOUND');
    const exists = await call('POST', '/personalities', calm);
    expect(exists.status).toBe(201);
    expect((await call('POST', '/personalities', calm)).json.error.code).toBe('ALREADY_EXISTS');
  });

  it('Prefer: return=minimal answers a write with 204 and its ETag, no body', async () => {
    const { call } = await api();
    await call('POST', '/personalities', calm);
    const r = await call('PATCH', '/personalities/calm', { name: 'Calmer' }, { Prefer: 'return=minimal' });
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(r.headers.get('etag')).toMatch(/^"r2-[0-9a-f]{16}"$/);
    expect(r.headers.get('preference-applied')).toBe('return=minimal');
  });

  it('never answers with a secret: a key pasted into a model is refused and not echoed', async () => {
    const { call } = await api();
    const key = 'sk-ant-api03-Zx9vQ2mL7pR4tY8wK1nB6cD3fG5hJ0aS';
    const r = await call('POST', '/models', {
      id: 'mine',
      provider: 'anthropic',
      modelId: 'claude-sonnet-4',
      apiKeyEnv: key,
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.text).not.toContain(key);
    expect(r.text).not.toContain('Zx9vQ2mL7pR4');
  });

  it('refuses a body over the limit with 413, writing nothing', async () => {
    const { call, store } = await api({ maxBodyBytes: 1024 });
    const r = await call('POST', '/personalities', { ...calm, description: 'x'.repeat(4096) });
    expect([r.status, r.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await store.list('personalities')).toEqual([]);
  });

  it('pages runs newest first by keyset: every run once, in order, while more are added', async () => {
    const { call } = await api();
    for (let i = 0; i < 5; i++) await call('POST', '/personalities', { ...calm, id: `p${i}` });
    const seen: string[] = [];
    let page = await call('GET', '/runs?limit=2');
    seen.push(...page.json.runs.map((r: { runId: string }) => r.runId));
    await call('POST', '/personalities', { ...calm, id: 'later' }); // newer than every page: not in them
    while (page.json.next) {
      page = await call('GET', `/runs?limit=2&after=${page.json.next}`);
      seen.push(...page.json.runs.map((r: { runId: string }) => r.runId));
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const all = (await call('GET', '/runs?limit=500')).json.runs.map((r: { runId: string }) => r.runId);
    expect(all.slice(1)).toEqual(seen);
    expect((await call('GET', '/runs?limit=0')).status).toBe(400);
    expect((await call('GET', '/runs?after=garbage')).status).toBe(400);
  });

  it('apply with dryRun answers the diff and writes nothing; without, applies all of it', async () => {
    const { call, store } = await api();
    const bundle = { personalities: [calm], roles: [], agents: [] };
    const plan = await call('POST', '/apply?dryRun=true', bundle);
    expect(plan.status).toBe(200);
    expect(plan.json.changes.map((c: { action: string; id: string }) => `${c.action} ${c.id}`)).toEqual([
      'create calm',
    ]);
    expect(await store.list('personalities')).toEqual([]);
    const applied = await call('POST', '/apply', bundle);
    expect(applied.json.applied).toBe(true);
    expect((await store.list('personalities')).map((d) => d.id)).toEqual(['calm']);
    expect((await call('GET', '/validate')).json).toEqual({ valid: true, issues: [] });
  });

  it('publishes an OpenAPI 3.1 document of every route, its schemas generated from the zod schemas', async () => {
    const { app } = await api();
    const doc = (await (await app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
        >
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/personalities',
      '/personalities/{id}',
      '/agents/{id}/resolved',
      '/runs',
      '/runs/{id}/cancel',
      '/apply',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
    const body = doc.paths['/personalities']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(expect.arrayContaining(['id', 'name', 'bigFive']));
    const page = await (await app.request('/docs')).text();
    expect(page).toContain('/api/personalities/{id}');
  });
});

describe('auth', () => {
  const tokens = { write: 'w'.repeat(24), read: 'r'.repeat(24) };

  it('with tokens set: none or a wrong one is 401, the read token reads but may not write (403)', async () => {
    const { call } = await api({ tokens });
    const as = (t: string) => ({ Authorization: `Bearer ${t}` });
    expect((await call('GET', '/personalities')).status).toBe(401);
    expect((await call('GET', '/personalities', undefined, as('x'.repeat(24)))).status).toBe(401);
    expect((await call('GET', '/personalities', undefined, as(tokens.read))).status).toBe(200);
    const refused = await call('POST', '/personalities', calm, as(tokens.read));
    expect([refused.status, refused.json.error.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call('POST', '/personalities', calm, as(tokens.write))).status).toBe(201);
    expect((await call('GET', '/feed')).status).toBe(401);
  });

  it('compares in constant time (whatever the lengths) and refuses to listen beyond loopback without a token', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(scopeOf('Bearer abc', {})).toBe('write'); // no token configured: loopback only
    expect(scopeOf(undefined, tokens)).toBeUndefined();
    expect(scopeOf(`bearer ${tokens.write}`, tokens)).toBe('write');
    expect(() => checkListen('0.0.0.0', {})).toThrow(/TROUPE_TOKEN/);
    expect(() => checkListen('0.0.0.0', { write: 'short' })).toThrow(/at least 16/);
    expect(() => checkListen('0.0.0.0', { write: 'a'.repeat(20), read: 'a'.repeat(20) })).toThrow(/differ/);
    expect(() => checkListen('127.0.0.1', {})).not.toThrow();
  });
});

describe('requests the server refuses before they reach the library', () => {
  it("refuses another site's requests: a form-like body, a foreign Origin or Sec-Fetch-Site, a rebound Host", async () => {
    const { app, store } = await api();
    const post = (headers: Record<string, string>, host = 'http://127.0.0.1:7420') =>
      app.request(`${host}/api/apply?prune=true`, { method: 'POST', headers, body: '{}' });
    expect((await post({ 'content-type': 'text/plain' })).status).toBe(415);
    // An empty body of another type too; an empty body of no type is no body.
    const empty = (headers: Record<string, string>) =>
      app.request('http://127.0.0.1:7420/api/reconcile', { method: 'POST', headers });
    expect((await empty({ 'content-type': 'text/plain' })).status).toBe(415);
    expect((await empty({ 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await empty({})).status).toBe(200);
    expect((await post({ 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(
      403,
    );
    expect((await post({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    );
    expect((await post({ 'content-type': 'application/json' }, 'http://attacker.example:7420')).status).toBe(
      403,
    );
    expect((await app.request('http://attacker.example/api/personalities')).status).toBe(403);
    const own = await post({
      'content-type': 'application/json',
      origin: 'http://127.0.0.1:7420',
      'sec-fetch-site': 'same-origin',
    });
    expect(own.status).toBe(200);
    expect(await store.list('personalities')).toEqual([]);
  });

  it('an empty body is refused where one is taken (an apply with prune would read it as a bundle of nothing)', async () => {
    const { app, call, store } = await api();
    expect((await call('POST', '/personalities', calm)).status).toBe(201);
    const before = await store.list('personalities');
    for (const [method, path] of [
      ['POST', '/apply?prune=true'],
      ['POST', '/personalities'],
      ['PATCH', '/personalities/calm'],
    ] as const)
      for (const init of [{ headers: { 'content-type': 'application/json' }, body: '' }, {}]) {
        const r = await app.request(`http://127.0.0.1:7420/api${path}`, { method, ...init });
        expect(r.status, `${method} ${path}`).toBe(400);
        expect(await r.json()).toMatchObject({
          error: {
            code: 'USAGE',
            message: `the request body is empty: ${method} /api${path.split('?')[0]!.replace('calm', '{id}')} takes a JSON object`,
          },
        });
      }
    expect(await store.list('personalities')).toEqual(before);
    // One that takes none still needs none.
    expect((await app.request('http://127.0.0.1:7420/api/reconcile', { method: 'POST' })).status).toBe(200);
  });

  it('never quotes back a header or a path that holds a key, whatever it refuses', async () => {
    const { app } = await api();
    const keys = [
      'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJ',
      'sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa',
      'AKIAIOSFODNN7EXAMPLE',
      '3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a',
    ];
    for (const key of keys) {
      const at = (path: string, init: RequestInit = {}, host = 'http://127.0.0.1:7420') =>
        app.request(`${host}/api${path}`, init);
      const json = { 'content-type': 'application/json' };
      const answers = await Promise.all([
        at('/personalities/calm', {
          method: 'PATCH',
          headers: { ...json, 'if-match': `W/"${key}"` },
          body: '{}',
        }),
        at('/personalities/calm', { method: 'PATCH', headers: { ...json, 'if-match': key }, body: '{}' }),
        at('/personalities', { method: 'POST', headers: { 'content-type': `text/${key}` }, body: '{}' }),
        at('/personalities', {}, `http://${key}.example`),
        at('/personalities', { headers: { origin: `http://${key}.example` } }),
        at('/personalities', { headers: { origin: key } }),
        at('/personalities', { headers: { 'sec-fetch-site': key } }),
        at(`/personalities/${key}`, { method: 'PUT' }),
      ]);
      for (const a of answers) {
        expect(a.status).toBeGreaterThanOrEqual(400);
        expect(await a.text()).not.toContain(key);
      }
    }
  });

  it('refuses a body that gives one key twice, as a file that does is refused', async () => {
    const { app, store } = await api();
    const send = (method: string, path: string, body: string) =>
      app.request(`http://127.0.0.1:7420/api${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body,
      });
    const created = await send('POST', '/personalities', JSON.stringify(calm));
    expect(created.status).toBe(201);
    const twice = await send('POST', '/personalities', `{"id":"two","name":"first","name":"second"}`);
    expect(twice.status).toBe(400);
    expect((await twice.json()).error.message).toBe('the request body gives key "name" twice in one object');
    const nested = await send('PATCH', '/personalities/calm', '{"bigFive":{"openness":1,"openness":99}}');
    expect(nested.status).toBe(400);
    expect((await store.list('personalities')).map((d) => [d.id, d.revision])).toEqual([['calm', 1]]);
  });

  it('a flag it cannot read, or a parameter the route does not take, is a usage error that writes nothing', async () => {
    const { call, store } = await api();
    const bundle = { personalities: [calm] };
    for (const q of ['dryRun=yes', 'dryrun=true', 'prune=maybe'])
      expect(await call('POST', `/apply?${q}`, bundle).then((r) => [q, r.status, r.json.error.code])).toEqual(
        [q, 400, 'USAGE'],
      );
    expect(await store.list('personalities')).toEqual([]);
    const dry = await call('POST', '/apply?dryRun=TRUE', bundle);
    expect(Object.keys(dry.json).sort()).toEqual(['applied', 'changes']);
    expect(dry.json.applied).toBe(false);
    expect(await store.list('personalities')).toEqual([]);
  });

  it('If-Match compares strongly, on every route that has a tag; elsewhere it cannot hold (412); other methods are 405', async () => {
    const { call, store } = await api();
    await call('POST', '/personalities', calm);
    const weak = await call('PATCH', '/personalities/calm', { name: 'Weak' }, { 'If-Match': 'W/"r1"' });
    expect([weak.status, weak.json.error.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect(
      (await call('POST', '/personalities', { ...calm, id: 'other' }, { 'If-Match': '"r1"' })).status,
    ).toBe(412);
    expect((await call('GET', '/personalities/calm', undefined, { 'If-Match': '"r9"' })).status).toBe(412);
    expect((await call('GET', '/personalities/calm', undefined, { 'If-Match': '"r1"' })).status).toBe(200);
    expect((await store.list('personalities')).map((d) => [d.id, d.revision])).toEqual([['calm', 1]]);
    const put = await call('PUT', '/personalities/calm', calm);
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, PATCH, DELETE']);
  });

  it('a feed asked for once shutdown has begun is refused at once, not held open', async () => {
    const { config } = await api();
    const { createApp } = await import('../../src/server/app.js');
    const stopping = new AbortController();
    stopping.abort();
    const res = await createApp({ config, signal: stopping.signal }).request('/api/feed');
    expect(res.status).toBe(503);
    expect(res.headers.get('connection')).toBe('close');
  });
});
