import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawned } from '../races/processes.js';
import { calm, serving } from './harness.js';

const JSON_TYPE = { 'Content-Type': 'application/json' };

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.map((o) => o.close()));
  open = [];
});

type Sse = { event: string; data: unknown };

/** Reads server-sent events from `url`, telling `each` of every one, until it says enough. */
async function events(url: string, each: (e: Sse, got: Sse[]) => boolean | Promise<boolean>) {
  const stop = new AbortController();
  const res = await fetch(url, { signal: stop.signal });
  const reader = res.body!.getReader();
  const got: Sse[] = [];
  let buf = '';
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return got;
    buf += dec.decode(value, { stream: true });
    for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || data === undefined) continue;
      const e = { event, data: JSON.parse(data) as unknown };
      got.push(e);
      if (await each(e, got)) {
        stop.abort();
        return got;
      }
    }
  }
}

describe('troupe serve over real connections', () => {
  it('streams each committed change as a server-sent event once watching; from a position the file store cannot replay, says relist', async () => {
    const s = await serving();
    open.push(s);
    const got = await events(`${s.http.url}/api/feed`, async (e, all) => {
      if (e.event === 'ready') {
        await fetch(`${s.http.url}/api/personalities`, {
          method: 'POST',
          headers: JSON_TYPE,
          body: JSON.stringify(calm),
        });
        await fetch(`${s.http.url}/api/personalities/calm`, {
          method: 'PATCH',
          headers: JSON_TYPE,
          body: JSON.stringify({ name: 'Calmer' }),
        });
      }
      return all.filter((x) => x.event === 'change').length >= 2;
    });
    expect(got[0]?.event).toBe('ready');
    const changes = got
      .filter((e) => e.event === 'change')
      .map((e) => e.data as { kind: string; id: string; revision: number });
    expect(changes.map((c) => `${c.kind}/${c.id}@${c.revision}`)).toEqual([
      'personalities/calm@1',
      'personalities/calm@2',
    ]);
    const from = await events(`${s.http.url}/api/feed?from=1`, (e) => e.event === 'relist');
    expect(from.map((e) => e.event)).toContain('relist');
  });

  it('writers racing with If-Match over several connections lose nothing: every 2xx write is in the final state', async () => {
    const s = await serving();
    open.push(s);
    await fetch(`${s.http.url}/api/personalities`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ ...calm, behaviors: { humor: 0 } }),
    });
    let acknowledged = 0;
    // Each writer adds 1 to humor by read-modify-write under If-Match, retrying on 412.
    const writer = async () => {
      for (let done = 0; done < 6; ) {
        const r = await fetch(`${s.http.url}/api/personalities/calm`);
        const tag = r.headers.get('etag') as string;
        const humor = ((await r.json()) as { behaviors: { humor: number } }).behaviors.humor;
        const w = await fetch(`${s.http.url}/api/personalities/calm`, {
          method: 'PATCH',
          headers: { ...JSON_TYPE, 'If-Match': tag, Prefer: 'return=minimal' },
          body: JSON.stringify({ behaviors: { humor: humor + 1 } }),
        });
        if (w.status === 204) {
          acknowledged++;
          done++;
        } else if (w.status === 412)
          continue; // lost the race: read again
        else throw new Error(`unexpected ${w.status}: ${await w.text()}`);
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    const final = (await (await fetch(`${s.http.url}/api/personalities/calm`)).json()) as {
      behaviors: { humor: number };
      revision: number;
    };
    expect(acknowledged).toBe(24);
    expect(final.behaviors.humor).toBe(24);
    expect(final.revision).toBe(25);
  });
});

describe('the troupe serve command', () => {
  const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));
  const run = (args: string[], cwd: string, env: Record<string, string> = {}) =>
    spawned(process.execPath, [bin, ...args], env, cwd);

  it('serves until SIGTERM and exits 0 after a graceful shutdown; refuses 0.0.0.0 without a token (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-serve-'));
    try {
      expect((await run(['init'], dir).exit).code).toBe(0);
      const refused = run(['serve', '--host', '0.0.0.0', '--port', '0'], dir, { TROUPE_TOKEN: '' });
      const refusal = await refused.exit;
      expect(refusal.code).toBe(2);
      expect(refusal.stderr).toMatch(/without a token: set TROUPE_TOKEN/);

      const token = 't'.repeat(32);
      const server = run(['serve', '--port', '0', '--json'], dir, { TROUPE_TOKEN: token });
      while (!server.stdout().includes('\n')) await new Promise((r) => setTimeout(r, 20));
      const { listening } = JSON.parse(server.stdout()) as { listening: string };
      expect((await fetch(`${listening}/api/personalities`)).status).toBe(401);
      const ok = await fetch(`${listening}/api/personalities`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(ok.status).toBe(200);
      server.signal('SIGTERM');
      const ended = await server.exit;
      expect(ended.code).toBe(0);
      expect(ended.stdout + ended.stderr).not.toContain(token);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
