import { describe, expect, it } from 'vitest';
import { pgClient, prepared, prepareOf } from './pg-client.js';
import { postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const servers = (await postgresUnavailable()) ? [] : [TEST_POSTGRES_URL];

describe('statements named by their text', () => {
  it('one text, one name, whatever its values; a statement without parameters goes unnamed', () => {
    const a = prepared('SELECT $1::int AS named_test', [1]);
    // A digest of the text: the same name in every process, for this text only.
    expect(a.name).toMatch(/^troupe_[0-9a-f]{32}$/);
    expect(prepared('SELECT $1::int AS named_test', [2])).toEqual({ ...a, values: [2] });
    expect(prepared('SELECT $1::text AS named_test', ['x']).name).not.toBe(a.name);
    expect(prepared('SELECT 1', undefined).name).toBeUndefined();
  });

  it('?prepare=false in a URL turns naming off, and is not sent to the server; another value is USAGE', () => {
    expect(prepareOf('postgres://h/db?prepare=false&schema=s')).toEqual({
      url: 'postgres://h/db?schema=s',
      prepare: false,
    });
    expect(prepareOf('postgres://h/db')).toEqual({ url: 'postgres://h/db' });
    expect(() => prepareOf('postgres://h/db?prepare=no')).toThrow(/\?prepare= takes true or false, not "no"/);
  });

  const off = (url: string) => {
    const u = new URL(url);
    u.searchParams.set('prepare', 'false');
    return u.toString();
  };
  it.each(
    servers.flatMap((url) => [
      { url, prepare: true, how: 'default' },
      { url, prepare: false, how: 'prepare: false' },
      { url: off(url), prepare: false, how: '?prepare=false' },
    ]),
  )(
    'on the test server ($how), a connection parses a named statement once and runs it again with new values',
    async ({ url, prepare, how }) => {
      const db = await pgClient(url, how === 'prepare: false' ? { poolSize: 1, prepare } : { poolSize: 1 });
      try {
        const text = 'SELECT $1::int + 1 AS next';
        const got = await db.transaction(async (tx) => {
          const first = await tx.query<{ next: number }>(text, [1]);
          const second = await tx.query<{ next: number }>(text, [41]);
          const { rows } = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1',
            [text],
          );
          return [first.rows[0]?.next, second.rows[0]?.next, rows[0]?.n];
        });
        expect(got).toEqual([2, 42, prepare ? 1 : 0]);
      } finally {
        await db.close();
      }
    },
  );
});

describe.each(servers.map((url) => [url]))('listening on %s', (url) => {
  it('a connection listened on and given back carries nothing of it: no handler piles up, a closed feed hears no loss', async () => {
    const db = await pgClient(url, { poolSize: 1 });
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(w.name);
    process.on('warning', warned);
    let lost = 0;
    try {
      // One pooled connection, listened on again and again.
      for (let i = 0; i < 12; i++)
        await (
          await db.listen(
            'troupe_test_cycle',
            () => {},
            () => lost++,
          )
        )();
      // That connection dies: none of the twelve closed feeds is told.
      await db.query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      expect(lost).toBe(0);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      // And a feed listening now still hears its loss.
      let heard = 0;
      const stop = await db.listen(
        'troupe_test_cycle',
        () => {},
        () => heard++,
      );
      const other = await pgClient(url, { poolSize: 1 }); // another session ends the listener's
      await other.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN troupe_test_cycle' AND pid <> pg_backend_pid()",
      );
      await other.close();
      for (let i = 0; i < 100 && heard === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toBeGreaterThan(0);
      await stop();
    } finally {
      process.off('warning', warned);
      await db.close();
    }
  });
});
