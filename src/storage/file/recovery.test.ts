import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredDoc } from '../store.js';
import type { JournalChange } from './journal.js';
import { finalState, type OnDisk } from './recovery.js';

/** A file's committed states: s[0] before the journal's records, s[i] after the i-th change. */
function history(start: number, ops: Array<'put' | 'delete'>) {
  const states: Array<StoredDoc | null> = [
    start === 0 ? null : { id: 'x', revision: start, createdAt: 'c0', updatedAt: 'u0' },
  ];
  const changes: JournalChange[] = [];
  for (const [i, op] of ops.entries()) {
    const now = states.at(-1)!;
    if (op === 'delete' && now) {
      changes.push({ kind: 'roles', id: 'x', prev: now.revision, doc: null });
      states.push(null);
    } else {
      // A put, or a delete of a missing file which a planner would refuse: put instead.
      const doc = { id: 'x', revision: (now?.revision ?? 0) + 1, createdAt: `c${i}`, updatedAt: `u${i}` };
      // Planned on no file, as a commit marks it.
      changes.push({
        kind: 'roles',
        id: 'x',
        prev: now?.revision ?? 0,
        doc,
        ...(now ? {} : { absent: true }),
      });
      states.push(doc);
    }
  }
  return { states, changes };
}

const onDisk = (s: StoredDoc | null): OnDisk =>
  s ? { state: 'doc', revision: s.revision } : { state: 'missing' };

describe('replaying a file through its journal changes', () => {
  it('ends in the last committed state from any state a crash or power loss can leave', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.constantFrom('put' as const, 'delete' as const), { minLength: 1, maxLength: 9 }),
        (start, ops) => {
          const { states, changes } = history(start, ops);
          const last = states.at(-1)!;
          // The file as any prefix of the records left it (renames not yet durable are lost).
          for (const [k, s] of states.entries()) {
            const target = finalState(onDisk(s), changes);
            expect(target === undefined ? s : target, `from state ${k}`).toBe(last);
          }
          // A file whose new content never reached the disk: torn or zero-length.
          const target = finalState({ state: 'unreadable' }, changes);
          expect(target, 'from a torn file').toBe(last);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves alone a file edited by hand at the same or a higher revision', () => {
    const { changes } = history(0, ['put', 'put']);
    expect(finalState({ state: 'doc', revision: 2 }, changes)).toBeUndefined();
    expect(finalState({ state: 'doc', revision: 9 }, changes)).toBeUndefined();
  });

  it('leaves alone a file written by hand where a put was planned on no file (it came after the plan)', () => {
    const { changes } = history(0, ['put']);
    expect(finalState({ state: 'doc', revision: 0 }, changes)).toBeUndefined();
    // Without the mark (a put over a file written by hand, adopting it) it applies, as before.
    const { absent: _a, ...adopting } = changes[0]!;
    expect(finalState({ state: 'doc', revision: 0 }, [adopting])).toBe(changes[0]!.doc);
    // A later commit that adopted that file (planned on it, not on nothing) still applies.
    const adopt = { kind: 'roles' as const, id: 'x', prev: 0, doc: { ...changes[0]!.doc!, updatedAt: 'u9' } };
    expect(finalState({ state: 'doc', revision: 0 }, [changes[0]!, adopt])).toBe(adopt.doc);
  });
});
