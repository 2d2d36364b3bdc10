import { createHash } from 'node:crypto';
import { TroupeError } from '../domain/errors.js';
import type { ChangeEvent, Kind, RelistEvent, WatchOptions } from '../storage/store.js';
import { databaseError, type SqlClient } from './sql.js';

/** Rows read per catch-up query: a feed far behind catches up in pages, never all at once. */
const PAGE = 500;

/** The channel commits of a schema notify: schemas in one database do not hear each other. */
export function feedChannel(schema: string): string {
  return channelOf('troupe_changes', schema);
}

/** A NOTIFY channel of a schema's: an identifier, so a name past 63 bytes is hashed. */
export function channelOf(prefix: string, schema: string): string {
  const plain = `${prefix}_${schema}`;
  return plain.length <= 63
    ? plain
    : `${prefix}_${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}

type HistoryRow = {
  seq: string;
  kind: Kind;
  id: string;
  revision: number;
  op: 'put' | 'delete';
  commit_id: string | null;
};

/**
 * The change feed of a database: history rows after `fromRevision` in pages, then a page each
 * time a commit notifies (LISTEN/NOTIFY; a notification only wakes the reader, the rows are
 * read from the table, so none is missed or repeated). Compacted past `fromRevision`: one
 * `relist` first, then the changes from the compaction mark on.
 */
export async function* watchFeed(
  db: SqlClient,
  schema: string,
  opts: WatchOptions = {},
): AsyncGenerator<ChangeEvent | RelistEvent> {
  const signal = opts.signal;
  let wake: () => void = () => {};
  let pending = true;
  const woken = () =>
    new Promise<void>((resolve) => {
      if (pending || signal?.aborted) return resolve();
      wake = resolve;
    });
  const poke = () => {
    pending = true;
    wake();
  };
  signal?.addEventListener('abort', poke, { once: true });
  let lost: unknown;
  const onLost = (e: unknown) => {
    lost = e;
    poke();
  };
  const stop = await db.listen(feedChannel(schema), poke, onLost).catch((e) => {
    throw databaseError(e, db.where, 'watch for changes');
  });
  try {
    const head = async () =>
      (
        await db.query<{ seq: string | null; compacted: string }>(
          'SELECT (SELECT max(seq) FROM troupe_history) AS seq, (SELECT compacted_through FROM troupe_feed) AS compacted',
        )
      ).rows[0];
    const first = await head();
    let position = opts.fromRevision ?? Number(first?.seq ?? 0);
    opts.onReady?.();
    const compacted = Number(first?.compacted ?? 0);
    const latest = Number(first?.seq ?? 0);
    if (opts.fromRevision !== undefined && opts.fromRevision < compacted) {
      yield {
        type: 'relist',
        position: compacted,
        reason: `the change feed was compacted through ${compacted}; changes after ${opts.fromRevision} are no longer all there`,
      };
      position = compacted;
    } else if (opts.fromRevision !== undefined && opts.fromRevision > Math.max(latest, compacted)) {
      // A position this feed never reached (one from another store, or from before the
      // database was restored): waiting past it would skip every change until then.
      yield {
        type: 'relist',
        position: latest,
        reason: `the change feed is at ${latest}; position ${opts.fromRevision} is past it (another store's, or from before a restore)`,
      };
      position = latest;
    }
    while (!signal?.aborted) {
      pending = false;
      for (;;) {
        const { rows } = await db.query<HistoryRow>(
          'SELECT seq, kind, id, revision, op, commit_id FROM troupe_history WHERE seq > $1 ORDER BY seq LIMIT $2',
          [position, PAGE],
        );
        for (const r of rows) {
          position = Number(r.seq);
          yield {
            type: 'change',
            position,
            op: r.op,
            kind: r.kind,
            id: r.id,
            revision: r.revision,
            // A delete's row keeps the deleted version's commit, not the deleting one's: no
            // writer is named, as on the file store.
            writer: r.op === 'delete' ? null : r.commit_id,
          };
          if (signal?.aborted) return;
        }
        if (rows.length < PAGE) break;
      }
      await woken();
      // The connection that hears commits is gone: the caller watches again from here.
      if (lost !== undefined && !signal?.aborted)
        throw new TroupeError(
          'TRANSIENT',
          `the change feed lost its connection to ${db.where} after position ${position}: watch again with fromRevision ${position} (\`troupe watch --from ${position}\`)`,
          { cause: lost, context: { position } },
        );
    }
  } catch (e) {
    if (e instanceof TroupeError) throw e;
    throw databaseError(e, db.where, 'read the change feed');
  } finally {
    signal?.removeEventListener('abort', poke);
    await stop().catch(() => undefined);
  }
}

/**
 * The history rows through $1 that are not their document's latest, of the documents with a
 * row after $2: the documents found by a range of the history's positions, each one's rows and
 * latest row by troupe_history_key_seq.
 */
const DROP_SUPERSEDED = `DELETE FROM troupe_history h
  USING (SELECT DISTINCT kind, id FROM troupe_history WHERE seq > $2) k
  WHERE h.kind = k.kind AND h.id = k.id AND h.seq <= $1
    AND h.seq < (SELECT max(seq) FROM troupe_history l WHERE l.kind = h.kind AND l.id = h.id)`;

/**
 * Drops history rows through `position` (keeping each document's latest), and marks the feed
 * compacted. Only documents with a row after `pruned_through` can have one to drop: a
 * compaction leaves each row through that mark (the lesser of its position and the last row it
 * saw) the latest of its document among the rows it saw, and rows are numbered in commit order
 * (see WRITE in store.ts), so a row committed since comes after the mark. A compaction after a
 * compaction reads the documents written since (and those of rows after its position), not
 * the whole history.
 */
export async function compactFeed(db: SqlClient, position: number): Promise<void> {
  await db.transaction(async (tx) => {
    // One snapshot (serializable) for the mark, the last row and the delete.
    const { rows } = await tx.query<{ pruned: string; head: string | null }>(
      'SELECT pruned_through AS pruned, (SELECT max(seq) FROM troupe_history) AS head FROM troupe_feed',
    );
    const pruned = rows[0]?.pruned ?? '0';
    await tx.query(DROP_SUPERSEDED, [position, pruned]);
    await tx.query(
      `UPDATE troupe_feed SET compacted_through = greatest(compacted_through, $1),
         pruned_through = least($1, $2::bigint)`,
      [position, rows[0]?.head ?? '0'],
    );
  });
}
