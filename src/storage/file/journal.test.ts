import { describe, expect, it } from 'vitest';
import { decodeJournal, encodeJournal, type JournalChange } from './journal.js';

const changes: JournalChange[] = [
  {
    kind: 'roles',
    id: 'writer',
    prev: 2,
    doc: { id: 'writer', name: 'Writer ✍', revision: 3, createdAt: 'a', updatedAt: 'b' },
  },
  { kind: 'agents', id: 'old', prev: 1, doc: null },
];

describe('journal record', () => {
  it('round-trips', () => {
    expect(decodeJournal(encodeJournal(changes))).toEqual(changes);
  });

  it('rejects every incomplete record', () => {
    const full = encodeJournal(changes);
    for (let n = 0; n < full.length; n++)
      expect(decodeJournal(full.subarray(0, n)), `${n} bytes`).toBeUndefined();
  });

  it('rejects a damaged body that is still valid JSON (checksum)', () => {
    const full = encodeJournal(changes);
    const at = full.indexOf('"prev":2');
    const bad = Buffer.from(full);
    bad[at + 7] = '5'.charCodeAt(0);
    expect(JSON.parse(bad.subarray(bad.indexOf(0x0a) + 1).toString()).changes[0].prev).toBe(5);
    expect(decodeJournal(bad)).toBeUndefined();
  });

  it('rejects trailing bytes, other headers and changes that name unsafe paths', () => {
    const full = encodeJournal(changes);
    expect(decodeJournal(Buffer.concat([full, Buffer.from('x')]))).toBeUndefined();
    expect(decodeJournal(Buffer.from(`something else\n${full}`))).toBeUndefined();
    const unsafe = encodeJournal([{ kind: 'roles', id: '../x', prev: 0, doc: null }]);
    expect(decodeJournal(unsafe)).toBeUndefined();
  });
});
