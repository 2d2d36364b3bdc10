import { TroupeError } from '../domain/errors.js';
import type { Kind, StoredDoc } from '../storage/store.js';

/**
 * The documents of the keys in two parallel arrays (kinds, ids), each looked up by its primary
 * key, whatever the table's size or statistics: a lateral lookup the planner cannot turn into a
 * scan of the whole table (a join on a small or freshly filled table becomes one). `where`
 * narrows the keys; `lock` is a locking clause for the rows found.
 */
export const BY_KEY = (kinds: string, ids: string, where = '', lock = '') =>
  `SELECT d.kind, d.id, d.doc FROM unnest(${kinds}::text[], ${ids}::text[]) AS k(kind, id)
   CROSS JOIN LATERAL (SELECT kind, id, doc FROM troupe_documents t
     WHERE t.kind = k.kind AND t.id = k.id OFFSET 0 ${lock}) d
   WHERE true ${where}`;

/** A field an "absent" guard names: a name, or a dotted path into the document. */
const FIELD = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

/**
 * The statement reading the documents of `kind` that have every field of `where` (an "absent"
 * guard's): the id by the primary key, other fields by the expressions the store's indexes
 * are on (an agent's personalityId, roleId and model.modelId), so a guard reads the few
 * documents it is about, never the whole kind. The kind is written into the text, so a plan
 * made once still sees the indexes kept for that kind alone.
 */
export function matchingQuery(kind: Kind, where: Record<string, string>): { text: string; params: string[] } {
  const params: string[] = [];
  const tests = Object.entries(where).map(([field, value]) => {
    if (!FIELD.test(field))
      throw new TroupeError('USAGE', `field "${field}" to find documents by is not a field name or path`);
    params.push(value);
    const at = `$${params.length}`;
    if (field === 'id') return `id = ${at}`;
    const path = field.split('.');
    return path.length === 1 ? `doc->>'${field}' = ${at}` : `doc #>> '{${path.join(',')}}' = ${at}`;
  });
  return {
    text: `SELECT doc FROM troupe_documents WHERE kind = '${kind}'${tests.map((t) => ` AND ${t}`).join('')}`,
    params,
  };
}

/**
 * Every write of a commit in one statement: documents put and deleted, their history rows,
 * and the feed's notice (heard by watchers when the transaction commits, not at all if it
 * rolls back). History positions are handed out in commit order: the feed's lock is taken
 * before any row is numbered and held until COMMIT (a sequence alone numbers in insert order,
 * and a watcher past a later number would never see an earlier one that commits after it).
 */
export const WRITE = `WITH
  put AS (INSERT INTO troupe_documents (kind, id, revision, doc)
    SELECT p->>0, p->>1, (p->>2)::int, p->3 FROM json_array_elements($1::json) AS p
    ON CONFLICT (kind, id) DO UPDATE SET revision = EXCLUDED.revision, doc = EXCLUDED.doc RETURNING 1),
  del AS (DELETE FROM troupe_documents
    WHERE (kind, id) IN (SELECT * FROM unnest($2::text[], $3::text[])) RETURNING 1),
  feed AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtext($5))),
  history AS (INSERT INTO troupe_history (kind, id, revision, op, doc, commit_id)
    SELECT h->>0, h->>1, (h->>2)::int, h->>3, h->4, h->>5
    FROM feed, json_array_elements($4::json) WITH ORDINALITY AS e(h, ord) ORDER BY e.ord
    RETURNING 1)
SELECT pg_notify($5, ''), pg_current_xact_id()::text AS xid FROM (SELECT count(*) FROM history) AS written`;

/** A document's JSON text, made once however many rows of a commit hold it (its put and its history row). */
export function docJson(): (doc: StoredDoc) => string {
  const made = new Map<StoredDoc, string>();
  return (doc) => {
    let text = made.get(doc);
    if (text === undefined) {
      text = JSON.stringify(doc);
      made.set(doc, text);
    }
    return text;
  };
}
