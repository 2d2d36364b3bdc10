import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, type StoredDoc } from '../store.js';
import { BATCH_TIME, crashBatch, crashSequence, SEED_TIME, seed } from './crash-batch.test-helper.js';
import { FileStore } from './index.js';
import { parseJournal } from './journal.js';
import { runChild } from './spawn.test-helper.js';

type Snapshot = Record<string, Record<string, StoredDoc>>;

/** A document without its commit id: each process that runs the same batch draws its own. */
const anyCommit = ({ commit: _c, ...d }: StoredDoc): StoredDoc => d;

async function snapshot(store: FileStore): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const kind of KINDS)
    out[kind] = Object.fromEntries((await store.list(kind)).map((d) => [d.id, anyCommit(d)]));
  return out;
}

/** The documents the files hold, read straight from disk without opening the store (no recovery). */
async function onDisk(dir: string): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const kind of KINDS) {
    out[kind] = {};
    for (const f of await readdir(join(dir, kind))) {
      if (f.endsWith('.json') && !f.startsWith('.'))
        out[kind][f.slice(0, -5)] = anyCommit(JSON.parse(await readFile(join(dir, kind, f), 'utf8')));
    }
  }
  return out;
}

/** Every file under the store's data folders and `.troupe/` (except backups), relative. */
async function visibleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of [...KINDS, '.troupe']) {
    for (const name of await readdir(join(dir, sub))) out.push(`${sub}/${name}`);
  }
  return out.sort();
}

/** How many of the batch's 20 entities the files show in their final state, read without recovery. */
async function appliedOnDisk(dir: string): Promise<number> {
  const disk = await onDisk(dir);
  let n = 0;
  for (const kind of KINDS) {
    for (const id of new Set([...Object.keys(before[kind]!), ...Object.keys(after[kind]!)])) {
      const was = before[kind]![id];
      const will = after[kind]![id];
      if (
        JSON.stringify(was) !== JSON.stringify(will) &&
        JSON.stringify(disk[kind]![id]) === JSON.stringify(will)
      )
        n++;
    }
  }
  return n;
}

/** What the journal holds: complete commit records, and bytes of a torn record after them. */
async function journalOf(dir: string) {
  const buf = await readFile(join(dir, '.troupe', 'journal'));
  const { entries, end } = parseJournal(buf);
  return { commits: entries.filter((e) => e.type === 'commit').length, torn: buf.length - end };
}

let root = '';
let seeded = '';
let before: Snapshot;
let after: Snapshot;
/** The state after the first k commits of the crash sequence. */
const afterSequence: Snapshot[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'troupe-crash-'));
  seeded = join(root, 'seeded');
  const s = await FileStore.init(seeded, { now: () => SEED_TIME });
  await seed(s);
  before = await snapshot(s);
  await s.close();
  const done = join(root, 'expected-after');
  await cp(seeded, done, { recursive: true });
  const d = await FileStore.open(done, { now: () => BATCH_TIME });
  await d.commit(crashBatch());
  after = await snapshot(d);
  await d.close();
  const seq = join(root, 'expected-sequence');
  await cp(seeded, seq, { recursive: true });
  const q = await FileStore.open(seq, { now: () => BATCH_TIME });
  afterSequence.push(before);
  for (const batch of crashSequence()) {
    await q.commit(batch);
    afterSequence.push(await snapshot(q));
  }
  await q.close();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Reopens the crashed store and checks it holds `expected`, cleanly, and still works. */
async function reopensTo(dir: string, expected: Snapshot) {
  const store = await FileStore.open(dir);
  expect(await snapshot(store)).toEqual(expected);
  const files = await visibleFiles(dir);
  expect(files.filter((f) => f.endsWith('.tmp') || f.endsWith('/lock'))).toEqual([]);
  // Replayed, made durable and checkpointed: the journal is empty again.
  expect(await journalOf(dir)).toEqual({ commits: 0, torn: 0 });
  expect((await readFile(join(dir, '.troupe', 'journal'))).length).toBe(0);
  expect((await store.scan()).filter((e) => e.error)).toEqual([]);
  // Every backup left is a valid document.
  for (const kind of KINDS) {
    for (const id of Object.keys(expected[kind]!)) {
      for (const b of await store.listBackups(kind, id))
        expect(await store.readBackup(kind, id, b.revision)).toBeDefined();
    }
  }
  // The store is usable afterwards and the lock of the dead process does not block it.
  await store.put('roles', { id: 'after-crash' });
  await store.close();
  expect((await readFile(join(dir, '.troupe', 'journal'))).length).toBe(0);
}

describe('a commit killed with SIGKILL leaves all of the batch or none of it', () => {
  it('the batch changes 20 entities across all kinds', () => {
    const changed = KINDS.flatMap((k) =>
      [...new Set([...Object.keys(before[k]!), ...Object.keys(after[k]!)])].filter(
        (id) => JSON.stringify(before[k]![id]) !== JSON.stringify(after[k]![id]),
      ),
    );
    expect(changed).toHaveLength(20);
  });

  // [crash point, entities already in their final state at the crash (min, max), expected outcome]
  it.each([
    ['journal-partial', 0, 0, 'none'],
    ['after-journal', 0, 0, 'all'],
    ['apply-1', 1, 19, 'all'],
    ['apply-9', 9, 19, 'all'],
    ['apply-19', 19, 20, 'all'],
    ['after-applied', 20, 20, 'all'],
    ['checkpoint-1', 20, 20, 'all'],
    ['checkpoint-12', 20, 20, 'all'],
    ['before-truncate', 20, 20, 'all'],
    ['none', 20, 20, 'all'],
  ] as const)(
    'killed at %s (%i–%i of 20 applied): reopening gives %s of it',
    async (point, min, max, expected) => {
      const dir = join(root, point);
      await cp(seeded, dir, { recursive: true });
      const child = await runChild('./crash-child.test-helper.ts', [dir, point]);
      if (point === 'none') expect(child, child.stderr).toMatchObject({ code: 0, signal: null });
      else expect(child.signal, child.stderr).toBe('SIGKILL');
      // The crash really happened where intended: the files are torn and the record is left.
      const applied = await appliedOnDisk(dir);
      expect(applied).toBeGreaterThanOrEqual(min);
      expect(applied).toBeLessThanOrEqual(max);
      expect(await journalOf(dir)).toEqual(
        point === 'journal-partial'
          ? { commits: 0, torn: expect.any(Number) }
          : { commits: point === 'none' ? 0 : 1, torn: 0 },
      );
      if (point === 'journal-partial') expect((await journalOf(dir)).torn).toBeGreaterThan(0);
      await reopensTo(dir, expected === 'all' ? after : before);
    },
  );

  it('the sequence re-creates entities it deleted, so revisions repeat', () => {
    expect(afterSequence).toHaveLength(5);
    expect(afterSequence[2]!.roles!['new-5']).toBeUndefined();
    expect(afterSequence[4]!.roles!['new-5']).toMatchObject({ revision: 2, label: 'new 5 again, updated' });
    expect(afterSequence[4]!.personalities!['old-2']).toBeUndefined();
  });

  // Several commits in one process, the journal never checkpointed; the crash hits the last one.
  // [crash point, commits that must survive, complete records in the journal at the crash, torn tail]
  it.each([
    ['seq-after-applied', 4, 4, false],
    ['seq-journal-partial', 3, 3, true],
    ['seq-after-journal', 4, 4, false],
    ['seq-apply-3', 4, 4, false],
    ['seq-checkpoint-1', 4, 4, false],
    ['seq-checkpoint-9', 4, 4, false],
    ['seq-before-truncate', 4, 4, false],
    ['seq-none', 4, 0, false],
  ] as const)('killed at %s: reopening gives the first %i commits', async (point, kept, records, torn) => {
    const dir = join(root, point);
    await cp(seeded, dir, { recursive: true });
    const child = await runChild('./crash-child.test-helper.ts', [dir, point]);
    if (point === 'seq-none') expect(child, child.stderr).toMatchObject({ code: 0, signal: null });
    else expect(child.signal, child.stderr).toBe('SIGKILL');
    const journal = await journalOf(dir);
    expect(journal.commits).toBe(records);
    expect(journal.torn > 0).toBe(torn);
    // Applied commits are on disk (not yet fsynced, but visible to every process) at once.
    if (point !== 'seq-after-journal' && point !== 'seq-apply-3') {
      expect(await onDisk(dir)).toEqual(afterSequence[kept]);
    }
    await reopensTo(dir, afterSequence[kept]!);
  });

  it('a store already open in another process finishes the dead commit before its next one', async () => {
    const dir = join(root, 'open-elsewhere');
    await cp(seeded, dir, { recursive: true });
    const store = await FileStore.open(dir);
    const child = await runChild('./crash-child.test-helper.ts', [dir, 'apply-9']);
    expect(child.signal, child.stderr).toBe('SIGKILL');
    await store.put('roles', { id: 'next' });
    const { next, ...roles } = (await snapshot(store)).roles!;
    expect(next?.revision).toBe(1);
    expect({ ...(await snapshot(store)), roles }).toEqual(after);
    // The dead commit was replayed and checkpointed away; only the new one is in the journal.
    expect(await journalOf(dir)).toEqual({ commits: 1, torn: 0 });
    await store.close();
    expect(await journalOf(dir)).toEqual({ commits: 0, torn: 0 });
  });

  it('a store already open in another process drops a torn record before its next commit', async () => {
    const dir = join(root, 'torn-elsewhere');
    await cp(seeded, dir, { recursive: true });
    const store = await FileStore.open(dir);
    const child = await runChild('./crash-child.test-helper.ts', [dir, 'seq-journal-partial']);
    expect(child.signal, child.stderr).toBe('SIGKILL');
    await store.put('roles', { id: 'next' });
    const { next, ...roles } = (await snapshot(store)).roles!;
    expect(next?.revision).toBe(1);
    expect({ ...(await snapshot(store)), roles }).toEqual(afterSequence[3]);
    expect(await journalOf(dir)).toEqual({ commits: 1, torn: 0 });
    await store.close();
  });
});
