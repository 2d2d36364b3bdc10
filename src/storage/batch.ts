import { randomBytes } from 'node:crypto';
import { assertValidId, MAX_REVISION } from '../domain/common.js';
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

/** A fresh commit id: what a batch's versions are credited to unless an op names its own. */
export const newCommitId = () => randomBytes(8).toString('hex');

function stamp(
  kind: Kind,
  doc: DocInput,
  prev: StoredDoc | undefined,
  nowIso: string,
  commit: string,
  createdAt?: string,
): StoredDoc {
  const { revision: _r, createdAt: _c, updatedAt: _u, commit: _k, ...body } = doc as StoredDoc;
  if ((prev?.revision ?? 0) >= MAX_REVISION)
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${singular[kind]} "${doc.id}" is at revision ${prev?.revision}, the highest there is: nothing was written (a revision that high was set by hand; set it back in the file)`,
      { context: { kind, id: doc.id, actualRevision: prev?.revision } },
    );
  return {
    ...body,
    id: doc.id,
    revision: (prev?.revision ?? 0) + 1,
    createdAt: prev?.createdAt ?? createdAt ?? nowIso,
    updatedAt: nowIso,
    commit,
  };
}

/** A create refused over a file written by hand that no commit has adopted yet (revision 0). */
export const handWritten = (kind: Kind, id: string) =>
  new TroupeError(
    'ALREADY_EXISTS',
    `${kind}/${id}.json already exists (written by hand, not yet adopted): run \`troupe reconcile\` to adopt it, or update it`,
    { context: { kind, id, actualRevision: 0 } },
  );

/** Throws what a commit would (ALREADY_EXISTS, CONCURRENT_MODIFICATION) unless `current` is at `expected`. */
export function checkRevision(
  kind: Kind,
  id: string,
  expected: number | undefined,
  current: StoredDoc | undefined,
) {
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
  /**
   * Documents of a kind, for "absent" guards: at least every one that has every field of
   * `where` (more is fine: each is checked again here). A store that can find them by those
   * fields (an index) reads only them; one that cannot gives all of the kind.
   */
  matching?: (kind: Kind, where: Record<string, string>) => Promise<StoredDoc[]>,
  /** Where the batch's commit id comes from (a store's own source, else a random one). */
  commitId: () => string = newCommitId,
): Promise<PlannedBatch> {
  const nowIso = new Date(now()).toISOString();
  const batchId = commitId();
  const changes: PlannedBatch['changes'] = new Map();
  const results: CommitResult['results'] = [];
  const absent: Array<Extract<BatchOp, { op: 'absent' }>> = [];
  for (const op of ops) {
    if (op.op === 'absent') {
      absent.push(op);
      continue;
    }
    const id = op.op === 'put' ? op.doc.id : op.id;
    assertValidId(id, singular[op.kind]);
    const key = keyOf(op.kind, id);
    const pending = changes.get(key);
    const prev = pending ? (pending.doc ?? undefined) : await current(op.kind, id);
    if (op.op === 'put' && op.create && prev?.revision === 0) throw handWritten(op.kind, id);
    checkRevision(op.kind, id, op.op === 'put' && op.create ? 0 : op.expectedRevision, prev);
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
      const commit = op.restore?.commit ?? op.commit ?? batchId;
      const doc = op.restore
        ? { ...stamp(op.kind, op.doc, undefined, nowIso, commit), ...op.restore, commit }
        : stamp(op.kind, op.doc, prev, nowIso, commit, prev ? undefined : op.createdAt);
      changes.set(key, { kind: op.kind, id, doc });
      results.push({ op: 'put', kind: op.kind, id, doc });
    } else {
      if (!prev) throw notFound(singular[op.kind], id);
      changes.set(key, { kind: op.kind, id, doc: null });
      results.push({ op: 'delete', kind: op.kind, id, doc: prev });
    }
  }
  for (const guard of absent) await checkAbsent(guard, changes, matching);
  return { changes, result: { results } };
}

/** Fails unless no document of the guard's kind matches its `where` once the batch is applied. */
async function checkAbsent(
  guard: Extract<BatchOp, { op: 'absent' }>,
  changes: PlannedBatch['changes'],
  matching: ((kind: Kind, where: Record<string, string>) => Promise<StoredDoc[]>) | undefined,
) {
  if (!matching) throw new TroupeError('USAGE', `this store cannot check "absent" guards on ${guard.kind}`);
  // A key may be a dotted path into the document (`model.modelId`).
  const at = (d: StoredDoc, k: string) =>
    k
      .split('.')
      .reduce<unknown>(
        (v, part) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined),
        d,
      );
  const matches = (d: StoredDoc) => Object.entries(guard.where).every(([k, v]) => at(d, k) === v);
  const after = new Map((await matching(guard.kind, guard.where)).map((d) => [d.id, d as StoredDoc | null]));
  for (const c of changes.values()) if (c.kind === guard.kind) after.set(c.id, c.doc);
  const allowed = new Set(guard.except ?? []);
  const found = [...after.values()]
    .filter((d): d is StoredDoc => d !== null && matches(d) && !allowed.has(d.id))
    .map((d) => d.id);
  if (found.length === 0) return;
  const what = Object.entries(guard.where)
    .map(([k, v]) => `${k} "${v}"`)
    .join(', ');
  throw new TroupeError(
    'CONCURRENT_MODIFICATION',
    `${guard.kind} with ${what} appeared meanwhile: ${found.sort().join(', ')}`,
    { context: { kind: guard.kind, where: guard.where, found } },
  );
}
