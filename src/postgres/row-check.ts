import type { Issue } from '../domain/errors.js';
import { valueProblems } from '../domain/text.js';
import { invalidFiles } from '../storage/file/codec.js';
import type { Kind, ScanEntry, StoredDoc } from '../storage/store.js';

/**
 * What no entity may hold, in a row as in a file (a NUL, a terminal escape, a lone surrogate,
 * a prototype key: an edit made with SQL by hand), as the row's first problem. A row is named
 * `kind/id`.
 */
export function rowIssue(kind: Kind, doc: StoredDoc): Issue | undefined {
  const problem = valueProblems(doc)[0];
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
    return error ? { kind, file, id: doc.id, raw: doc, error } : { kind, file, id: doc.id, doc };
  });
