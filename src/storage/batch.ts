import { assertValidId } from '../domain/common.js';
import { concurrentModification, notFound, TroupeError } from '../domain/errors.js';
import {
  type BatchOp,
  type CommitResult,
  type DocInput,
  type Kind,
  type StoredDoc,
  singular,
} from './store.js';

export const keyOf = (kind: Kind, id: string) => `${kind}/${id}`;

export interface PlannedBatch {
  /** Final state per key: a document to write, or null to delete. Later ops on a key win. */
  changes: Map<string, { kind: Kind; id: string; doc: StoredDoc | null }>;
  result: CommitResult;
}

function stamp(doc: DocInput, prev: StoredDoc | undefined, nowIso: string): StoredDoc {
  const { revision: _r, createdAt: _c, updatedAt: _u, ...body } = doc as StoredDoc;
  return {
    ...body,
    id: doc.id,
    revision: (prev?.revision ?? 0) + 1,
    createdAt: prev?.createdAt ?? nowIso,
    updatedAt: nowIso,
  };
}

function checkRevision(kind: Kind, id: string, expected: number | undefined, current: StoredDoc | undefined) {
  if (expected === undefined) return;
  const actual = current?.revision ?? 0;
  if (expected !== actual) {
    if (expected === 0) {
      throw new TroupeError(
        'ALREADY_EXISTS',
        `${singular[kind]} "${id}" already exists (revision ${actual})`,
        {
          context: { kind, id, actualRevision: actual },
        },
      );
    }
    throw concurrentModification(singular[kind], id, expected, actual);
  }
}

/**
 * Validates a batch against the current state and computes what to write, without writing.
 * Shared by every adapter so CAS, id checks and stamping behave identically everywhere.
 */
export async function planBatch(
  ops: BatchOp[],
  current: (kind: Kind, id: string) => Promise<StoredDoc | undefined>,
  now: () => number,
): Promise<PlannedBatch> {
  const nowIso = new Date(now()).toISOString();
  const changes: PlannedBatch['changes'] = new Map();
  const results: CommitResult['results'] = [];
  for (const op of ops) {
    const id = op.op === 'put' ? op.doc.id : op.id;
    assertValidId(id, singular[op.kind]);
    const key = keyOf(op.kind, id);
    const pending = changes.get(key);
    const prev = pending ? (pending.doc ?? undefined) : await current(op.kind, id);
    checkRevision(op.kind, id, op.expectedRevision, prev);
    if (op.op === 'check') continue;
    if (op.op === 'put') {
      if (op.restore && prev) {
        throw new TroupeError(
          'ALREADY_EXISTS',
          `cannot restore ${singular[op.kind]} "${id}": it exists (revision ${prev.revision})`,
          {
            context: { kind: op.kind, id, actualRevision: prev.revision },
          },
        );
      }
      const doc = op.restore
        ? { ...stamp(op.doc, undefined, nowIso), ...op.restore }
        : stamp(op.doc, prev, nowIso);
      changes.set(key, { kind: op.kind, id, doc });
      results.push({ op: 'put', kind: op.kind, id, doc });
    } else {
      if (!prev) throw notFound(singular[op.kind], id);
      changes.set(key, { kind: op.kind, id, doc: null });
      results.push({ op: 'delete', kind: op.kind, id, doc: prev });
    }
  }
  return { changes, result: { results } };
}
