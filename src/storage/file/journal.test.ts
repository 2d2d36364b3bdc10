import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeEntryAt,
  encodeEntry,
  type JournalChange,
  type JournalEntry,
  lastEntry,
  parseJournal,
} from './journal.js';

const changes: JournalChange[] = [
  {
    kind: 'roles',
    id: 'writer',
    prev: 2,
    doc: { id: 'writer', name: 'Writer ✍\ntwo lines', revision: 3, createdAt: 'a', updatedAt: 'b' },
  },
  { kind: 'agents', id: 'old', prev: 1, doc: null },
];

const entries: JournalEntry[] = [
  { type: 'commit', seq: 1, changes },
  { type: 'applied', seq: 1 },
  {
    type: 'commit',
    seq: 2,
    changes: [
      { kind: 'models', id: 'm', prev: 0, doc: null },
      // A put planned on no file (see JournalChange.absent).
      {
        kind: 'roles',
        id: 'new',
        prev: 0,
        doc: { id: 'new', revision: 1, createdAt: 'a', updatedAt: 'a' },
        absent: true,
      },
    ],
  },
  { type: 'applied', seq: 2 },
  { type: 'resync' },
];
const log = Buffer.concat(entries.map(encodeEntry));

describe('journal entries', () => {
  it('round-trip one by one and as a log', () => {
    for (const e of entries) expect(decodeEntryAt(encodeEntry(e), 0)?.entry).toEqual(e);
    expect(parseJournal(log)).toEqual({ entries, end: log.length });
  });

  it('a body never holds a raw newline, so a frame is its header line and one more line', () => {
    const frame = encodeEntry(entries[0]!);
    expect(frame.subarray(frame.indexOf(0x0a) + 1).includes(0x0a)).toBe(false);
  });

  it('a log cut at any byte keeps exactly the complete entries before the cut', () => {
    const ends = [0];
    for (const e of entries) ends.push(ends.at(-1)! + encodeEntry(e).length);
    for (let n = 0; n <= log.length; n++) {
      const complete = ends.filter((end) => end <= n).length - 1;
      const parsed = parseJournal(log.subarray(0, n));
      expect(parsed.entries, `${n} bytes`).toEqual(entries.slice(0, complete));
      expect(parsed.end).toBe(ends[complete]);
    }
  });

  it('stops at a damaged frame even when its body is still valid JSON (checksum)', () => {
    const bad = Buffer.from(log);
    const at = bad.indexOf('"prev":0');
    bad[at + 7] = '5'.charCodeAt(0);
    const parsed = parseJournal(bad);
    expect(parsed.entries).toEqual(entries.slice(0, 2));
  });

  it('rejects other headers and changes that name unsafe paths', () => {
    expect(parseJournal(Buffer.from(`something else\n${log}`)).entries).toEqual([]);
    const unsafe = encodeEntry({
      type: 'commit',
      seq: 1,
      changes: [{ kind: 'roles', id: '../x', prev: 0, doc: null }],
    });
    expect(decodeEntryAt(unsafe, 0)).toBeUndefined();
    // "Planned on no file" is only ever a put of a first version.
    for (const bad of [
      { kind: 'roles', id: 'x', prev: 0, doc: null, absent: true },
      { kind: 'roles', id: 'x', prev: 2, doc: { id: 'x', revision: 3 }, absent: true },
      { kind: 'roles', id: 'x', prev: 0, doc: { id: 'x', revision: 1 }, absent: 'yes' },
    ])
      expect(
        decodeEntryAt(encodeEntry({ type: 'commit', seq: 1, changes: [bad as JournalChange] }), 0),
        JSON.stringify(bad),
      ).toBeUndefined();
  });

  it('reads a record left by the version that kept one commit per journal file', () => {
    const body = Buffer.from(JSON.stringify({ changes }), 'utf8');
    const sum = createHash('sha256').update(body).digest('hex');
    const old = Buffer.concat([Buffer.from(`troupe-journal 1 ${body.length} ${sum}\n`), body]);
    expect(parseJournal(old).entries).toEqual([{ type: 'commit', seq: 0, changes }]);
  });

  it('lastEntry finds the entry that ends the log, and nothing when the end is torn', () => {
    expect(lastEntry(log.subarray(log.length - 256))).toEqual({ type: 'resync' });
    const upToApplied = log.subarray(0, log.length - encodeEntry({ type: 'resync' }).length);
    expect(lastEntry(upToApplied.subarray(upToApplied.length - 200))).toEqual({ type: 'applied', seq: 2 });
    for (let cut = 1; cut < 40; cut++)
      expect(lastEntry(upToApplied.subarray(0, upToApplied.length - cut))).not.toEqual({
        type: 'applied',
        seq: 2,
      });
    // A commit at the end whose content mentions the header text is not mistaken for a note.
    const tricky = encodeEntry({
      type: 'commit',
      seq: 3,
      changes: [
        {
          kind: 'roles',
          id: 'r',
          prev: 0,
          doc: {
            id: 'r',
            revision: 1,
            createdAt: 'a',
            updatedAt: 'b',
            note: 'troupe-journal 1 12 ab\n{"applied":9}',
          },
        },
      ],
    });
    expect(lastEntry(tricky)).toBeUndefined();
  });
});
