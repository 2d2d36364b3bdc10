import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeEvent, RelistEvent } from '../storage/store.js';
import { feedChannel } from './feed.js';
import { instances, lastSchema } from './instances.test-helper.js';
import type { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite, TEST_POSTGRES_URL } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

/** A writer and a watcher on one database. */
const pair = async (engine: string) => (await instances(engine, 2)) as [PostgresStore, PostgresStore];

/** Takes `n` events from a feed, then stops it. */
async function take(feed: AsyncIterable<ChangeEvent | RelistEvent>, n: number, stop: AbortController) {
  const out: Array<ChangeEvent | RelistEvent> = [];
  for await (const e of feed) {
    out.push(e);
    if (out.length === n) break;
  }
  stop.abort();
  return out;
}

describe.each(engines.map((e) => [e]))('the change feed on %s', (engine) => {
  it('hears each committed change once, in order, with its kind, id, revision and writer', async () => {
    const [writer, watcher] = await pair(engine);
    const stop = new AbortController();
    // Where the feed is now: what is committed from here on is heard, however soon.
    const from = await watcher.feedPosition();
    const events = take(watcher.watch({ fromRevision: from, signal: stop.signal }), 4, stop);
    const first = await writer.commit([
      { op: 'put', kind: 'personalities', doc: { id: 'calm' } },
      { op: 'put', kind: 'roles', doc: { id: 'dev' } },
    ]);
    await writer.put('personalities', { id: 'calm', name: 'Calm' });
    await writer.delete('roles', 'dev');
    const got = await events;
    expect(
      got.map((e) => (e.type === 'change' ? `${e.op} ${e.kind}/${e.id} r${e.revision}` : e.type)),
    ).toEqual([
      'put personalities/calm r1',
      'put roles/dev r1',
      'put personalities/calm r2',
      'delete roles/dev r1',
    ]);
    const positions = got.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(4);
    expect((got[0] as ChangeEvent).writer).toBe(first.results[0]?.doc.commit);
    // The commit that wrote the deleted version did not delete it: a delete names no writer.
    expect((got[3] as ChangeEvent).writer).toBeNull();
  });

  it('a watcher waiting for news is woken by a commit of another instance (NOTIFY), each time', async () => {
    const [writer, watcher] = await pair(engine);
    const stop = new AbortController();
    const feed = watcher
      .watch({ fromRevision: await watcher.feedPosition(), signal: stop.signal })
      [Symbol.asyncIterator]();
    for (const n of [1, 2, 3]) {
      const next = feed.next(); // the watcher has read all there is and waits to be told
      await new Promise((r) => setTimeout(r, 20));
      await writer.put('models', { id: `m${n}` });
      expect(((await next).value as ChangeEvent).id).toBe(`m${n}`);
    }
    stop.abort();
    expect((await feed.next()).done).toBe(true);
  });

  // Two sessions at once: PostgreSQL only (PGlite has one).
  if (engine === 'postgres')
    it('a commit that took its number first but commits last is still heard: numbers follow commit order', async () => {
      const [b, watcher] = await pair(engine);
      const schema = lastSchema() as string;
      const stop = new AbortController();
      const feed = watcher.watch({ fromRevision: await watcher.feedPosition(), signal: stop.signal });
      const heard = take(feed, 2, stop);
      // A slow commit of another instance, done as the store does it: it takes the feed's turn,
      // then its history number, and commits only later.
      const slow = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await slow.connect();
      await slow.query(`SET search_path TO ${schema}`);
      await slow.query('BEGIN');
      await slow.query('SELECT pg_advisory_xact_lock(hashtext($1))', [feedChannel(schema)]);
      await slow.query(
        `INSERT INTO troupe_history (kind, id, revision, op, doc) VALUES ('agents', 'slow', 1, 'put', '{"id":"slow"}')`,
      );
      // A quick commit meanwhile: it must wait its turn, not take a later number and commit first.
      const quick = b.put('agents', { id: 'quick' });
      await new Promise((r) => setTimeout(r, 200));
      await slow.query('COMMIT');
      await slow.end();
      await quick;
      expect(((await heard) as ChangeEvent[]).map((e) => e.id)).toEqual(['slow', 'quick']);
    }, 15_000);

  it('from a position, catches up on what it missed, then goes on', async () => {
    const [writer, watcher] = await pair(engine);
    for (const n of [1, 2, 3]) await writer.put('agents', { id: `a${n}` });
    const stop = new AbortController();
    const seen = await take(
      watcher.watch({ fromRevision: 0, signal: stop.signal }),
      3,
      new AbortController(),
    );
    const after = seen[0]?.position as number;
    const rest = take(watcher.watch({ fromRevision: after, signal: stop.signal }), 3, stop);
    await writer.put('agents', { id: 'a4' });
    expect((await rest).map((e) => (e as ChangeEvent).id)).toEqual(['a2', 'a3', 'a4']);
  });

  it('compacted past the position asked for, it says to list again, then goes on from the mark', async () => {
    const [writer, watcher] = await pair(engine);
    for (const n of [1, 2, 3]) await writer.put('agents', { id: 'a', name: `v${n}` });
    await writer.put('agents', { id: 'b' });
    const all = await take(watcher.watch({ fromRevision: 0 }), 4, new AbortController());
    const mark = all[2]?.position as number;
    await watcher.compactHistory(mark);
    // The latest version of each document stays: its backup is still there.
    expect((await watcher.readBackup('agents', 'a', 3))?.name).toBe('v3');
    expect(await watcher.readBackup('agents', 'a', 1)).toBeUndefined();
    const again = await take(watcher.watch({ fromRevision: all[0]?.position }), 2, new AbortController());
    expect(again[0]).toMatchObject({ type: 'relist', position: mark });
    expect(again[1]).toMatchObject({ type: 'change', kind: 'agents', id: 'b' });
  });

  it("from a position past any it has reached (another store's), it says to list again, then hears every change", async () => {
    const [writer, watcher] = await pair(engine);
    await writer.put('agents', { id: 'a' });
    const head = await watcher.feedPosition();
    const stop = new AbortController();
    let ready = () => {};
    const listening = new Promise<void>((r) => {
      ready = r;
    });
    const feed = watcher.watch({
      fromRevision: head + 1_000_000,
      signal: stop.signal,
      onReady: () => ready(),
    });
    const seen = take(feed, 2, stop);
    await listening;
    await writer.put('agents', { id: 'b' });
    const [relist, change] = await seen;
    expect(relist).toMatchObject({ type: 'relist', position: head });
    expect(change).toMatchObject({ type: 'change', kind: 'agents', id: 'b' });
  });
});
