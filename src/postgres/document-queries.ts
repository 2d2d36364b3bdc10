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

/**
 * A document the server cannot take apart: its text holds `\u0000` or half a surrogate pair
 * (json keeps them as written, but `->` refuses them). Such a document is never judged by a
 * field (it is kept out of the indexes below) but always handed back for the caller to check.
 * The text of the expression is the one migration 6 indexes.
 */
export const UNDECODABLE = String.raw`doc::text ~ '\\u(0000|[dD][89a-fA-F])'`;

/** A field's value, or null for a document the server cannot take apart. */
const guarded = (expr: string) => `(CASE WHEN ${UNDECODABLE} THEN NULL ELSE ${expr} END)`;

/** The fields of agents the store indexes (migration 6), with the expression each index is on. */
const INDEXED = new Map([
  ['personalityId', guarded(`doc->>'personalityId'`)],
  ['roleId', guarded(`doc->>'roleId'`)],
  ['model.modelId', guarded(`doc #>> '{model,modelId}'`)],
]);

/**
 * Text no decodable document holds as a field name or value, nor a parameter can carry: a NUL,
 * or half a surrogate pair. Only a document the server cannot take apart may match it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: a NUL is what it looks for
const UNSENDABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The statement reading the documents of `kind` that have every field of `where` (a dotted
 * key is a path): the id by the primary key, an agent's personalityId, roleId and
 * model.modelId by the indexes on them, any other field by its path (a parameter: any name
 * will do), so a guard reads the few documents it is about, never the whole kind where an index
 * serves. Documents the server cannot take apart come too (see UNDECODABLE), for the caller
 * to check. The kind is written into the text, so a plan made once still sees the indexes kept
 * for that kind alone.
 */
export function matchingQuery(
  kind: Kind,
  where: Record<string, string>,
): { text: string; params: unknown[] } {
  const of = `FROM troupe_documents WHERE kind = '${kind}'`;
  const undecodable = `SELECT id, doc ${of} AND ${UNDECODABLE}`;
  if (Object.entries(where).some(([field, value]) => UNSENDABLE.test(field) || UNSENDABLE.test(value)))
    return { text: undecodable, params: [] };
  const params: unknown[] = [];
  const byId: string[] = [];
  const tests = Object.entries(where).map(([field, value]) => {
    params.push(value);
    const at = `$${params.length}`;
    if (field === 'id') {
      byId.push(` AND id = ${at}`); // a column: asked of every document, the undecodable ones too
      return `id = ${at}`;
    }
    const indexed = kind === 'agents' ? INDEXED.get(field) : undefined;
    if (indexed) return `${indexed} = ${at}`;
    params.push(field.split('.'));
    return `${guarded(`doc #>> $${params.length}::text[]`)} = ${at}`;
  });
  // Each document once: the undecodable ones only from the second part.
  return {
    text: `SELECT id, doc ${of}${tests.map((t) => ` AND ${t}`).join('')} AND NOT ${UNDECODABLE} UNION ALL ${undecodable}${byId.join('')}`,
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
    SELECT m.kind, m.id, m.revision, j.doc
    FROM unnest($1::text[], $2::text[], $3::int[]) WITH ORDINALITY AS m(kind, id, revision, ord)
    JOIN json_array_elements($4::json) WITH ORDINALITY AS j(doc, ord) ON j.ord = m.ord
    ON CONFLICT (kind, id) DO UPDATE SET revision = EXCLUDED.revision, doc = EXCLUDED.doc RETURNING 1),
  del AS (DELETE FROM troupe_documents
    WHERE (kind, id) IN (SELECT * FROM unnest($5::text[], $6::text[])) RETURNING 1),
  feed AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtext($13))),
  history AS (INSERT INTO troupe_history (kind, id, revision, op, doc, commit_id)
    SELECT m.kind, m.id, m.revision, m.op, j.doc, m.commit_id
    FROM feed, unnest($7::text[], $8::text[], $9::int[], $10::text[], $11::text[])
      WITH ORDINALITY AS m(kind, id, revision, op, commit_id, ord)
    JOIN json_array_elements($12::json) WITH ORDINALITY AS j(doc, ord) ON j.ord = m.ord
    ORDER BY m.ord
    RETURNING 1)
SELECT pg_notify($13, '') FROM (SELECT count(*) FROM history) AS written`;

/**
 * Documents go to the server as one JSON array text (an array of JSON texts would be escaped
 * element by element), each element taken whole by json_array_elements: never through `->`,
 * which decodes a document's escapes and refuses `\u0000` or half a surrogate pair that json
 * keeps as written.
 */
export const docsJson = (docs: readonly StoredDoc[], json: (doc: StoredDoc) => string) =>
  `[${docs.map(json).join(',')}]`;

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
