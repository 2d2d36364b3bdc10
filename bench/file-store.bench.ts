import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { FileStore } from '../src/storage/file/store.js';
import type { BatchOp, Kind } from '../src/storage/store.js';
import { type BenchRow, formatTable, isMain, timePerOp, withRatios } from './run.js';

const KINDS4: Kind[] = ['personalities', 'roles', 'agents', 'resolved'];

/** A document of about 500 bytes, like a small entity file. */
const doc = (kind: Kind, i: number) => ({
  id: `${kind.slice(0, 1)}${i}`,
  name: `${kind} ${i}`,
  notes: 'x'.repeat(400),
  tags: ['a', 'b', 'c'],
});

/** The store's default checkpoint interval: every sample pays for exactly one checkpoint. */
const COMMITS_PER_SAMPLE = 64;
const SAMPLES = 9;

const BASELINE = '4 files one by one (write-file-atomic, fsync)';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Commits on the file store (each durable when it resolves, checkpoints included) against
 * writing the same files one by one with write-file-atomic. The variants take turns sample by
 * sample, so a disk that gets slower or faster during the run affects them all alike.
 */
export async function fileStoreBench(): Promise<BenchRow[]> {
  const dirs: string[] = [];
  const fresh = async () => {
    const d = await mkdtemp(join(tmpdir(), 'troupe-bench-store-'));
    dirs.push(d);
    return d;
  };
  const stores: FileStore[] = [];
  const store = async () => {
    const s = await FileStore.init(await fresh());
    stores.push(s);
    return s;
  };
  try {
    let n = 0;
    const plainDir = await fresh();
    for (const k of KINDS4) await mkdir(join(plainDir, k), { recursive: true });
    const [four, one, update] = [await store(), await store(), await store()];
    const variants: Array<[string, () => Promise<unknown>]> = [
      [
        BASELINE,
        async () => {
          const i = ++n;
          for (const kind of KINDS4) {
            const d = doc(kind, i);
            await writeFileAtomic(join(plainDir, kind, `${d.id}.json`), `${JSON.stringify(d, null, 2)}\n`, {
              fsync: true,
            });
          }
        },
      ],
      [
        'file store commit, 4 new documents',
        () => {
          const i = ++n;
          return four.commit(KINDS4.map((kind): BatchOp => ({ op: 'put', kind, doc: doc(kind, i) })));
        },
      ],
      ['file store commit, 1 new document', () => one.put('roles', doc('roles', ++n))],
      [
        'file store commit, 4 updates (5 backups kept)',
        () => update.commit(KINDS4.map((kind): BatchOp => ({ op: 'put', kind, doc: doc(kind, 1) }))),
      ],
    ];
    const samples = variants.map((): number[] => []);
    for (let s = 0; s <= SAMPLES; s++) {
      for (const [v, [, fn]] of variants.entries()) {
        const ms = await timePerOp(fn, { iterations: COMMITS_PER_SAMPLE, rounds: 1, warmupRounds: 0 });
        if (s > 0) samples[v]!.push(ms);
      }
    }
    return withRatios(
      variants.map(([name], v) => ({
        name,
        value: median(samples[v]!),
        unit: 'ms',
        ...(name === BASELINE ? {} : { baseline: BASELINE }),
      })),
    );
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

if (isMain(import.meta)) console.log(formatTable(await fileStoreBench()));
