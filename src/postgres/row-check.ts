import type { Issue } from '../domain/errors.js';
import { valueProblems } from '../domain/text.js';
import { invalidFiles } from '../storage/file/codec.js';
import type { Kind, ScanEntry, StoredDoc } from '../storage/store.js';

/** A row's problem with its shape (not an object, or naming another id), carried by its stand-in. */
const SHAPE = Symbol('row shape');

/**
 * A row's document as a read hands it on: itself, or, when it is no JSON object or names
 * another id than its row's (edited with SQL by hand), a stand-in of the row's id carrying
 * that problem, which every read then refuses (see rowIssue) and validate lists.
 */
export function rowDoc(r: { id: string; doc: unknown }): StoredDoc {
  const doc = r.doc as StoredDoc | null;
  const problem =
    doc === null || typeof doc !== 'object' || Array.isArray(doc)
      ? {
          path: '(root)',
          message: `must be a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`,
        }
      : doc.id !== r.id
        ? {
            path: 'id',
            message: `is ${JSON.stringify(doc.id)} but the row's id is "${r.id}"; they must match`,
          }
        : undefined;
  if (!problem) return doc as StoredDoc;
  return Object.defineProperty({ id: r.id, revision: 0, createdAt: '', updatedAt: '' }, SHAPE, {
    value: problem,
  });
}

/**
 * What no entity may hold, in a row as in a file (a NUL, a terminal escape, a lone surrogate,
 * a prototype key: an edit made with SQL by hand), as the row's first problem. A row is named
 * `kind/id`.
 */
export function rowIssue(kind: Kind, doc: StoredDoc): Issue | undefined {
  const problem = (doc as { [SHAPE]?: { path: string; message: string } })[SHAPE] ?? valueProblems(doc)[0];
  return problem && { file: `${kind}/${doc.id}`, path: problem.path, message: problem.message };
}

/** The rows of a read, refused (VALIDATION_FAILED naming each) if any holds what no entity may. */
export function checkedRows<D extends StoredDoc>(
  kind: Kind,
  docs: D[],
  context: Record<string, unknown> = {},
): D[] {
  const issues = docs.flatMap((d) => rowIssue(kind, d) ?? []);
  if (issues.length > 0) throw invalidFiles(issues, { kind, ...context });
  return docs;
}

/** Every row of a kind as `scan` gives it: its document, or its problem. */
export const scanRows = (kind: Kind, docs: StoredDoc[]): ScanEntry[] =>
  docs.map((doc) => {
    const error = rowIssue(kind, doc);
    const file = `${kind}/${doc.id}`;
    if (!error) return { kind, file, id: doc.id, doc };
    return SHAPE in doc ? { kind, file, id: doc.id, error } : { kind, file, id: doc.id, raw: doc, error };
  });
