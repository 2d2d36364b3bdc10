import { afterAll, describe, expect, it } from 'vitest';
import { faulty } from './faulty.test-helper.js';
import { instances, lastSchema } from './instances.test-helper.js';
import { scannedWhole } from './plans.test-helper.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

/** The statement compaction sent before it looked only at documents written since the last. */
const EVERY_ROW = `DELETE FROM troupe_history h WHERE h.seq <= $1 AND h.seq < (
  SELECT max(seq) FROM troupe_history l WHERE l.kind = h.kind AND l.id = h.id) RETURNING seq`;

describe.each(engines.map((e) => [e]))('compacting the history on %s', (engine) => {
  it('a compaction after a compaction deletes exactly what the old statement would, reading only the documents written since', async () => {
    const [plain] = await instances(engine, 1);
    const db = plain!.sql;
    const sent: Array<{ text: string; params: unknown[] }> = [];
    const store = await PostgresStore.over(
      faulty(db, (text, run, params) => {
        if (/DELETE FROM troupe_history/.test(text)) sent.push({ text, params: params ?? [] });
        return run();
      }),
      { schema: lastSchema() as string },
    );
    // A long history: five versions of each of 4,000 documents, written directly.
    await db.exec(
      `INSERT INTO troupe_history (kind, id, revision, op, doc)
       SELECT 'agents', 'a-' || g, r, 'put', json_build_object('id', 'a-' || g)
       FROM generate_series(1, 5) r, generate_series(1, 4000) g ORDER BY r, g;
       ANALYZE troupe_history`,
    );
    const seqs = async () =>
      (await db.query<{ seq: string }>('SELECT seq FROM troupe_history ORDER BY seq')).rows.map((r) =>
        Number(r.seq),
      );
    const head = async () => Math.max(0, ...(await seqs()));
    /** What the old statement deletes at `position` now (rolled back). */
    const oldWouldDelete = async (position: number) => {
      let rows: number[] = [];
      await db
        .transaction(async (tx) => {
          rows = (await tx.query<{ seq: string }>(EVERY_ROW, [position])).rows.map((r) => Number(r.seq));
          throw new Error('rolled back');
        })
        .catch(() => undefined);
      return rows.sort((a, b) => a - b);
    };
    /** Compacts at `position`; what it deleted equals what the old statement would have. */
    const compact = async (position: number, bounded: boolean) => {
      const expected = await oldWouldDelete(position);
      const before = await seqs();
      sent.length = 0;
      await store.compactHistory(position);
      const after = new Set(await seqs());
      expect({ position, deleted: before.filter((s) => !after.has(s)) }).toEqual({
        position,
        deleted: expected,
      });
      if (!bounded) return expected.length;
      for (const { text, params } of sent) {
        const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
        expect({ text, scanned: scannedWhole(rows[0]?.['QUERY PLAN']) }).toEqual({ text, scanned: [] });
      }
      return expected.length;
    };
    const write = async (ids: string[]) => {
      for (const id of ids) await store.put('agents', { id, name: `at ${await head()}` });
    };

    // The first compaction, at half the history: every document is looked at.
    const half = (await head()) / 2;
    expect(await compact(half, false)).toBe(10_000);
    // Rows after the mark are still there to drop, superseded by rows before the head: every
    // document has one.
    expect(await compact(await head(), false)).toBe(6_000);
    expect(await compact(await head(), true)).toBe(0);
    await write(['a-1', 'a-2', 'a-2', 'new-1', 'a-3']);
    expect(await compact(await head(), true)).toBe(4);
    // A mark past the head: rows written next land at or before it, and are compacted after all.
    expect(await compact((await head()) + 1_000, true)).toBe(0);
    await write(['a-4', 'a-4', 'new-1', 'new-2', 'a-5']);
    await store.delete('agents', 'a-5');
    expect(await compact(await head(), true)).toBe(5);
    // A position behind the rows written since, then one behind every compaction before.
    await write(['a-6', 'a-6', 'a-7', 'new-2']);
    const between = (await head()) - 2;
    await write(['a-6', 'a-7']);
    expect(await compact(between, true)).toBe(5);
    expect(await compact(half, true)).toBe(0);
    await write(['a-7', 'a-8']);
    // Behind `half` now: every document after it is looked at again.
    expect(await compact(await head(), false)).toBe(3);
    // The latest version of each document stays: its backup, and the delete.
    expect((await store.readBackup('agents', 'a-6', 3))?.name).toMatch(/^at /);
    expect(await store.readBackup('agents', 'a-6', 2)).toBeUndefined();
    expect((await store.readBackup('agents', 'a-9', 5))?.id).toBe('a-9');
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM troupe_history WHERE kind = 'agents' AND id = 'a-5' AND op = 'delete'`,
    );
    expect(rows[0]?.n).toBe(1);
  });
});
