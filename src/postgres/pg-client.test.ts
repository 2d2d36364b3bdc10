import { describe, expect, it } from 'vitest';
import { pgClient, prepared } from './pg-client.js';
import { postgresUnavailable, TEST_POSTGRES_URL } from './test-db.test-helper.js';

const servers = (await postgresUnavailable()) ? [] : [TEST_POSTGRES_URL];

describe('statements named by their text', () => {
  it('one text, one name, whatever its values; a statement without parameters goes unnamed', () => {
    const a = prepared('SELECT $1::int AS named_test', [1]);
    expect(a.name).toMatch(/^troupe_\d+$/);
    expect(prepared('SELECT $1::int AS named_test', [2])).toEqual({ ...a, values: [2] });
    expect(prepared('SELECT $1::text AS named_test', ['x']).name).not.toBe(a.name);
    expect(prepared('SELECT 1', undefined).name).toBeUndefined();
  });

  it.each(servers.flatMap((url) => [true, false].map((prepare) => ({ url, prepare }))))(
    'on the test server (prepare: $prepare), a connection parses a named statement once and runs it again with new values',
    async ({ url, prepare }) => {
      const db = await pgClient(url, { poolSize: 1, prepare });
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
