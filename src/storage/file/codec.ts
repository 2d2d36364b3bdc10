import { EntityId, MAX_REVISION, Meta } from '../../domain/common.js';
import type { Issue } from '../../domain/errors.js';
import { validationError } from '../../domain/errors.js';
import { MAX_FILE_BYTES } from '../../domain/file-size.js';
import { duplicateJsonKey } from '../../domain/json-keys.js';
import { printable, valueProblems } from '../../domain/text.js';
import type { StoredDoc } from '../store.js';
import { locateJsonError } from './json-position.js';

export type { ScanEntry } from '../store.js';

export type Decoded = { ok: true; doc: StoredDoc; raw: unknown } | { ok: false; raw?: unknown; issue: Issue };

/** Pretty JSON, 2-space indent, trailing newline; keys stay in the document's own order. */
export const encodeDoc = (doc: StoredDoc): string => `${JSON.stringify(doc, null, 2)}\n`;

/** `personalities/calm.json: id: ...`; a whole-file problem has no field path. */
export const describeIssue = (i: Issue) =>
  `${i.file ? `${i.file}: ` : ''}${i.path === '(root)' ? '' : `${i.path}: `}${i.message}`;

/** VALIDATION_FAILED listing every issue, one per line. */
export function invalidFiles(issues: Issue[], context: Record<string, unknown> = {}) {
  const head =
    issues.length === 1
      ? describeIssue(issues[0]!)
      : `${issues.length} invalid files:\n${issues.map(describeIssue).join('\n')}`;
  return validationError(head, issues, context);
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function jsonIssue(text: string, file: string, error: unknown): Issue {
  const at = locateJsonError(text);
  if (at)
    return {
      file,
      path: '(root)',
      message: `invalid JSON at line ${at.line} column ${at.column}: ${at.message}`,
    };
  return {
    file,
    path: '(root)',
    message: `invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
  };
}

const META = ['revision', 'createdAt', 'updatedAt'] as const;

function metaIssue(raw: Record<string, unknown>, file: string): Issue | undefined {
  const shape = Meta.shape;
  if (!shape.revision.safeParse(raw.revision).success || raw.revision === 0) {
    return {
      file,
      path: 'revision',
      message: `${raw.revision === undefined ? 'is missing' : `must be a whole number from 1 to ${MAX_REVISION}, got ${JSON.stringify(raw.revision)}`}`,
    };
  }
  for (const k of ['createdAt', 'updatedAt'] as const) {
    if (!shape[k].safeParse(raw[k]).success) {
      return {
        file,
        path: k,
        message:
          raw[k] === undefined
            ? 'is missing'
            : `must be an ISO date-time like "2024-05-01T12:00:00.000Z", got ${JSON.stringify(raw[k])}`,
      };
    }
  }
  if (!shape.commit.safeParse(raw.commit).success) {
    return {
      file,
      path: 'commit',
      message: `must be the id of the commit that wrote this version (text of 1 to 64 characters), got ${JSON.stringify(raw.commit)}; remove the field if unsure`,
    };
  }
  return undefined;
}

/**
 * Parses and checks one entity file: valid JSON, an object holding nothing no entity may hold,
 * `id` equal to the file name, and the store's metadata present. The domain schema is not
 * applied here; services do that.
 */
export function decodeDoc(
  text: string,
  file: string,
  fileId: string,
  mtime?: () => Date | undefined,
): Decoded {
  if (!EntityId.safeParse(fileId).success) {
    return {
      ok: false,
      issue: {
        file,
        path: 'id',
        message: `the file name is not a valid id (a lowercase slug like "calm-analyst" is required), got ${JSON.stringify(fileId)}`,
      },
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    return { ok: false, issue: jsonIssue(text, file, e) };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      raw,
      issue: { file, path: '(root)', message: `must be a JSON object, got ${typeName(raw)}` },
    };
  }
  // What no entity may hold, edited by hand as much as written through troupe: nesting past
  // MAX_DEPTH (the walk stops there, so no depth overflows it), control and direction-override
  // characters (a terminal escape), numbers JSON cannot carry, prototype keys (bytes that are
  // not UTF-8 are refused as they are read: see notUtf8).
  const problem = valueProblems(raw)[0];
  if (problem) return { ok: false, raw, issue: { file, path: problem.path, message: problem.message } };
  const dup = duplicateJsonKey(text);
  if (dup)
    return {
      ok: false,
      raw,
      issue: {
        file,
        path: printable(dup.key),
        message: `appears twice in one object (line ${dup.line}): which one is meant cannot be told`,
      },
    };
  const obj = raw as Record<string, unknown>;
  if (obj.id !== fileId) {
    const message =
      obj.id === undefined
        ? `is missing; it must be ${JSON.stringify(fileId)} (the file name)`
        : `is ${JSON.stringify(obj.id)} but the file is named ${fileId}.json; they must match`;
    return { ok: false, raw, issue: { file, path: 'id', message } };
  }
  if (META.every((k) => obj[k] === undefined)) {
    // Written by hand without the store's metadata: readable at once as revision 0 ("not yet
    // adopted"), so list, show and export work; `troupe reconcile` adopts it at revision 1.
    const at = (mtime?.() ?? new Date(0)).toISOString();
    return { ok: true, doc: { ...obj, revision: 0, createdAt: at, updatedAt: at } as StoredDoc, raw };
  }
  const issue = metaIssue(obj, file);
  if (issue) return { ok: false, raw, issue };
  return { ok: true, doc: obj as StoredDoc, raw };
}

/** A file larger than any troupe reads, as its issue: refused before it is read. */
export const tooLarge = (file: string, size: number | bigint): Issue => ({
  file,
  path: '(root)',
  message: `is ${size} bytes, more than the ${MAX_FILE_BYTES} a troupe file may hold: it is not read`,
});

/** A file whose bytes are not UTF-8, as its issue (they are never read as U+FFFD). */
export const notUtf8 = (file: string, at: number): Issue => ({
  file,
  path: '(root)',
  message: `is not valid UTF-8 (at byte ${at}): save it as UTF-8`,
});
