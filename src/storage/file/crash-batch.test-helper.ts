import type { BatchOp, Kind } from '../store.js';
import type { FileStore } from './store.js';

/** Fixed clocks, so a crashed run and a clean one produce byte-identical documents. */
export const SEED_TIME = Date.UTC(2024, 0, 1);
export const BATCH_TIME = Date.UTC(2024, 0, 2);

const SEEDED: Kind[] = ['personalities', 'roles', 'agents', 'models'];

/** The before-state: 3 entities of each of four kinds. */
export async function seed(store: FileStore): Promise<void> {
  await store.commit(
    SEEDED.flatMap((kind) =>
      [0, 1, 2].map((i): BatchOp => ({ op: 'put', kind, doc: { id: `old-${i}`, label: `${kind} ${i}` } })),
    ),
  );
}

/**
 * 20 changes across all five kinds: 6 updates (CAS), 4 deletes and 10 creates, so a torn
 * batch shows up as some entity in the wrong state.
 */
export function crashBatch(): BatchOp[] {
  const ops: BatchOp[] = [];
  for (const kind of SEEDED) {
    ops.push({ op: 'put', kind, doc: { id: 'old-0', label: `${kind} 0 updated` }, expectedRevision: 1 });
  }
  ops.push({ op: 'put', kind: 'roles', doc: { id: 'old-1', label: 'roles 1 updated' } });
  ops.push({ op: 'put', kind: 'agents', doc: { id: 'old-1', label: 'agents 1 updated' } });
  for (const kind of SEEDED) ops.push({ op: 'delete', kind, id: 'old-2' });
  for (let i = 0; i < 10; i++) {
    const kind: Kind = i < 5 ? 'resolved' : (SEEDED[i % 4] as Kind);
    ops.push({
      op: 'put',
      kind,
      doc: { id: `new-${i}`, label: `new ${i}`, nested: { i, tags: ['a', 'b'] } },
    });
  }
  return ops;
}

/**
 * The crash batch and then three more commits that update, delete and re-create some of the same
 * entities (a re-created entity starts again at revision 1), all planned on what came before.
 */
export function crashSequence(): BatchOp[][] {
  return [
    crashBatch(),
    [
      { op: 'put', kind: 'personalities', doc: { id: 'old-0', label: 'third' }, expectedRevision: 2 },
      { op: 'delete', kind: 'roles', id: 'new-5' },
      { op: 'put', kind: 'agents', doc: { id: 'new-6', label: 'new 6 updated' } },
    ],
    [
      { op: 'put', kind: 'roles', doc: { id: 'new-5', label: 'new 5 again' }, expectedRevision: 0 },
      { op: 'delete', kind: 'resolved', id: 'new-0' },
      { op: 'put', kind: 'models', doc: { id: 'old-1', label: 'models 1 updated' } },
      { op: 'put', kind: 'personalities', doc: { id: 'old-2', label: 'back' }, expectedRevision: 0 },
    ],
    [
      { op: 'put', kind: 'roles', doc: { id: 'new-5', label: 'new 5 again, updated' }, expectedRevision: 1 },
      { op: 'put', kind: 'resolved', doc: { id: 'new-0', label: 'new 0 again' }, expectedRevision: 0 },
      { op: 'delete', kind: 'agents', id: 'old-1' },
      { op: 'delete', kind: 'personalities', id: 'old-2' },
      { op: 'put', kind: 'models', doc: { id: 'new-7', label: 'new 7 updated' } },
    ],
  ];
}
