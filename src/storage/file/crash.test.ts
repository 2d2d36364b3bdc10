import { access, cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS, type StoredDoc } from '../store.js';
import { BATCH_TIME, crashBatch, SEED_TIME, seed } from './crash-batch.test-helper.js';
import { FileStore } from './index.js';
import { runChild } from './spawn.test-helper.js';

type Snapshot = Record<string, Record<string, StoredDoc>>;

async function snapshot(store: FileStore): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const kind of KINDS) out[kind] = Object.fromEntries((await store.list(kind)).map((d) => [d.id, d]));
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
  let n = 0;
  for (const kind of KINDS) {
    const names = (await readdir(join(dir, kind))).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    const onDisk: Record<string, unknown> = {};
    for (const f of names) onDisk[f.slice(0, -5)] = JSON.parse(await readFile(join(dir, kind, f), 'utf8'));
    for (const id of new Set([...Object.keys(before[kind]!), ...Object.keys(after[kind]!)])) {
      const was = before[kind]![id];
      const will = after[kind]![id];
      if (JSON.stringify(was) !== JSON.stringify(will) && JSON.stringify(onDisk[id]) === JSON.stringify(will))
        n++;
    }
  }
  return n;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

let root = '';
let seeded = '';
let before: Snapshot;
let after: Snapshot;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'troupe-crash-'));
  seeded = join(root, 'seeded');
  const s = await FileStore.init(seeded, { now: () => SEED_TIME });
  await seed(s);
  before = await snapshot(s);
  const done = join(root, 'expected-after');
  await cp(seeded, done, { recursive: true });
  const d = await FileStore.open(done, { now: () => BATCH_TIME });
  await d.commit(crashBatch());
  after = await snapshot(d);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

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
    ['before-journal-remove', 20, 20, 'all'],
    ['none', 20, 20, 'all'],
  ] as const)(
    'killed at %s (%i–%i of 20 applied): reopening gives %s of it',
    async (point, min, max, expected) => {
      const dir = join(root, point);
      await cp(seeded, dir, { recursive: true });
      const child = await runChild('./crash-child.test-helper.ts', [dir, point]);
      if (point === 'none') expect(child, child.stderr).toMatchObject({ code: 0, signal: null });
      else expect(child.signal, child.stderr).toBe('SIGKILL');
      // The crash really happened where intended: the files are torn and the journal is left.
      const applied = await appliedOnDisk(dir);
      expect(applied).toBeGreaterThanOrEqual(min);
      expect(applied).toBeLessThanOrEqual(max);
      expect(await exists(join(dir, '.troupe', 'journal'))).toBe(point !== 'none');

      const store = await FileStore.open(dir);
      expect(await snapshot(store)).toEqual(expected === 'all' ? after : before);
      const files = await visibleFiles(dir);
      expect(files.filter((f) => f.endsWith('.tmp') || f.includes('journal') || f.endsWith('/lock'))).toEqual(
        [],
      );
      expect((await store.scan()).filter((e) => e.error)).toEqual([]);
      // The store is usable afterwards and the lock of the dead process does not block it.
      await store.put('roles', { id: 'after-crash' });
      await store.close();
    },
  );

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
    expect(await exists(join(dir, '.troupe', 'journal'))).toBe(false);
  });
});
