import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { bootedAt } from '../../src/platform/liveness.js';

/**
 * A model of a disk under POSIX durability rules, driven by the log `TROUPE_DISK_LOG` records
 * (src/platform/disk.ts): every open, write, truncate, fsync, rename, link, unlink, mkdir and close
 * of a real run, with its crash points in order. Replaying the log, it knows at each record what
 * is durable and what only sits in the page cache, and `lose()` answers what a power loss at
 * that moment leaves:
 * - a file's data is durable up to its last fsync/fdatasync; later writes are lost, kept, or
 *   kept in part with the last one torn;
 * - a folder's entries (create, rename, link, unlink, mkdir) are durable up to its last fsync; later
 *   ones survive as a prefix in the order they were made (a journalling file system keeps
 *   metadata in order), a rename all or nothing.
 * One recorded run gives every power-loss point: nothing after a point can change what was
 * durable at it.
 */

type Node = FileNode | DirNode;
interface FileNode {
  kind: 'file';
  durable: Buffer;
  now: Buffer;
  /** Changes since the last fsync, in order. */
  pending: Array<{ at: number; data: Buffer } | { size: number }>;
}
interface DirNode {
  kind: 'dir';
  durable: Map<string, Node>;
  now: Map<string, Node>;
  /** Entry changes since the last fsync, each applied whole: [name, node or removed]. */
  pending: Array<Array<[string, Node | undefined]>>;
}

export type DiskRecord =
  | { o: 'open'; h: number; p: string; create: boolean; trunc: boolean; append: boolean }
  | { o: 'write'; h: number; at: number | null; d: string }
  | { o: 'truncate'; h: number; n: number }
  | { o: 'sync'; h: number }
  | { o: 'close'; h: number }
  | { o: 'rename'; a: string; b: string }
  | { o: 'link'; a: string; b: string }
  | { o: 'unlink'; p: string }
  | { o: 'mkdir'; p: string; first: string }
  | { o: 'point'; n: string; d?: string };

/** What survives: every folder and file under the root, by relative path ('' is the root). */
export type Tree = Map<string, Buffer | 'dir'>;

/**
 * How a power loss treats what is not durable: all of it lost (`strict`); all kept (`kept`, what
 * a SIGKILL leaves); every folder change kept but no file data not fsynced (`meta`: the
 * zero-length files of delayed allocation); or a seeded mix, the last write perhaps torn.
 */
export type Loss = 'strict' | 'kept' | 'meta' | { seed: number };

const file = (content: Buffer): FileNode => ({ kind: 'file', durable: content, now: content, pending: [] });
const folder = (): DirNode => ({ kind: 'dir', durable: new Map(), now: new Map(), pending: [] });

function applyData(content: Buffer, change: FileNode['pending'][number]): Buffer {
  if ('size' in change)
    return change.size <= content.length
      ? content.subarray(0, change.size)
      : Buffer.concat([content, Buffer.alloc(change.size - content.length)]);
  const end = change.at + change.data.length;
  const out = Buffer.alloc(Math.max(content.length, end));
  content.copy(out);
  change.data.copy(out, change.at);
  return out;
}

/** A small seeded generator (mulberry32): the same seed tears the same way. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export class SimDisk {
  readonly #root: DirNode;
  readonly #handles = new Map<number, { node: Node; pos: number; append: boolean }>();

  /** `tree` is what was on disk before the run, all of it durable. */
  private constructor(
    readonly rootPath: string,
    tree: Tree,
  ) {
    this.#root = folder();
    for (const [rel, v] of [...tree].sort(([a], [b]) => a.length - b.length)) {
      if (rel === '') continue;
      const parent = this.#dir(join(rootPath, dirname(rel)));
      const node = v === 'dir' ? folder() : file(v);
      parent!.now.set(rel.split('/').pop()!, node);
    }
    this.#settle(this.#root);
  }

  /** A model of what is under `root` now, all of it taken as durable. */
  static async of(root: string): Promise<SimDisk> {
    return new SimDisk(root, await readTree(root));
  }

  /** A model of `tree` at `root`, all of it durable. */
  static from(root: string, tree: Tree): SimDisk {
    return new SimDisk(root, tree);
  }

  #settle(d: DirNode): void {
    d.durable = new Map(d.now);
    for (const n of d.now.values()) {
      if (n.kind === 'dir') this.#settle(n);
      else n.durable = n.now;
    }
  }

  /** The folder at an absolute path, if it is under the root and exists. */
  #dir(path: string): DirNode | undefined {
    const n = this.#node(path);
    return n?.kind === 'dir' ? n : undefined;
  }

  #node(path: string): Node | undefined {
    const rel = relative(this.rootPath, path);
    if (rel.startsWith('..')) return undefined;
    let n: Node = this.#root;
    for (const part of rel.split(sep).filter(Boolean)) {
      if (n.kind !== 'dir') return undefined;
      const next = n.now.get(part);
      if (!next) return undefined;
      n = next;
    }
    return n;
  }

  #where(path: string): [DirNode, string] | undefined {
    const rel = relative(this.rootPath, path);
    if (rel === '' || rel.startsWith('..')) return undefined;
    const parent = this.#dir(dirname(path));
    return parent ? [parent, path.slice(path.lastIndexOf(sep) + 1)] : undefined;
  }

  #entries(d: DirNode, changes: Array<[string, Node | undefined]>): void {
    for (const [name, node] of changes) {
      if (node) d.now.set(name, node);
      else d.now.delete(name);
    }
    d.pending.push(changes);
  }

  #change(f: FileNode, change: FileNode['pending'][number]): void {
    f.now = applyData(f.now, change);
    f.pending.push(change);
  }

  /** Applies one record of the log (records about paths outside the root are ignored). */
  apply(r: DiskRecord): void {
    switch (r.o) {
      case 'open': {
        let node = this.#node(r.p);
        if (!node) {
          const at = this.#where(r.p);
          if (!at || !r.create) return;
          node = file(Buffer.alloc(0));
          this.#entries(at[0], [[at[1], node]]);
        } else if (r.trunc && node.kind === 'file') this.#change(node, { size: 0 });
        this.#handles.set(r.h, { node, pos: 0, append: r.append });
        return;
      }
      case 'write': {
        const h = this.#handles.get(r.h);
        if (h?.node.kind !== 'file') return;
        const data = Buffer.from(r.d, 'base64');
        const at = r.at ?? (h.append ? h.node.now.length : h.pos);
        this.#change(h.node, { at, data });
        if (r.at === null && !h.append) h.pos += data.length;
        return;
      }
      case 'truncate': {
        const h = this.#handles.get(r.h);
        if (h?.node.kind === 'file') this.#change(h.node, { size: r.n });
        return;
      }
      case 'sync': {
        const n = this.#handles.get(r.h)?.node;
        if (!n) return;
        if (n.kind === 'file') n.durable = n.now;
        else n.durable = new Map(n.now);
        n.pending = [];
        return;
      }
      case 'close':
        this.#handles.delete(r.h);
        return;
      case 'rename': {
        const from = this.#where(r.a);
        const to = this.#where(r.b);
        const node = from?.[0].now.get(from[1]);
        if (!from || !to || !node) return;
        if (from[0] === to[0])
          this.#entries(from[0], [
            [from[1], undefined],
            [to[1], node],
          ]);
        else {
          this.#entries(to[0], [[to[1], node]]);
          this.#entries(from[0], [[from[1], undefined]]);
        }
        return;
      }
      case 'link': {
        // A second name for the same file, in the folder of `b` (never replacing: it was absent).
        const from = this.#where(r.a);
        const to = this.#where(r.b);
        const node = from?.[0].now.get(from[1]);
        if (to && node) this.#entries(to[0], [[to[1], node]]);
        return;
      }
      case 'unlink': {
        const at = this.#where(r.p);
        if (at) this.#entries(at[0], [[at[1], undefined]]);
        return;
      }
      case 'mkdir': {
        // `first` is the outermost folder created; each one below it down to `p` is new too.
        const rel = relative(r.first, r.p);
        const made = [
          r.first,
          ...rel
            .split(sep)
            .filter(Boolean)
            .map((_, i, a) => join(r.first, ...a.slice(0, i + 1))),
        ];
        for (const d of made) {
          const at = this.#where(d);
          if (at && !at[0].now.has(at[1])) this.#entries(at[0], [[at[1], folder()]]);
        }
        return;
      }
      case 'point':
        return;
    }
  }

  /** What a power loss now would leave on the disk. */
  lose(loss: Loss): Tree {
    const pick = typeof loss === 'object' ? rng(loss.seed) : () => 0;
    const keep = (n: number, dir: boolean) =>
      loss === 'kept' || (loss === 'meta' && dir) ? n : typeof loss === 'object' ? pick(n + 1) : 0;
    const out: Tree = new Map([['', 'dir']]);
    const walk = (d: DirNode, rel: string) => {
      const entries = new Map(d.durable);
      for (const changes of d.pending.slice(0, keep(d.pending.length, true)))
        for (const [name, node] of changes) {
          if (node) entries.set(name, node);
          else entries.delete(name);
        }
      for (const [name, node] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
        const p = rel ? `${rel}/${name}` : name;
        if (node.kind === 'dir') {
          out.set(p, 'dir');
          walk(node, p);
          continue;
        }
        let content = node.durable;
        const n = keep(node.pending.length, false);
        node.pending.slice(0, n).forEach((change, i) => {
          // The last write kept may be torn: only a prefix of it reached the disk.
          if (i === n - 1 && typeof loss === 'object' && 'data' in change && pick(2) === 0)
            content = applyData(content, {
              at: change.at,
              data: change.data.subarray(0, pick(change.data.length)),
            });
          else content = applyData(content, change);
        });
        out.set(p, content);
      }
    };
    walk(this.#root, '');
    return out;
  }
}

/** Everything under root, by relative path (symlinks and other special files are skipped). */
export async function readTree(root: string): Promise<Tree> {
  const out: Tree = new Map([['', 'dir']]);
  const walk = async (rel: string) => {
    for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.set(p, 'dir');
        await walk(p);
      } else if (e.isFile()) out.set(p, await readFile(join(root, p)));
    }
  };
  await walk('');
  return out;
}

/**
 * Replaces what is under root with `tree`, as the machine finds it when it starts again: every
 * file last changed before it booted.
 */
export async function materialize(tree: Tree, root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
  const before = new Date(bootedAt() - 60_000);
  for (const [rel, v] of tree) {
    const p = join(root, rel);
    if (v === 'dir') await mkdir(p, { recursive: true });
    else {
      await writeFile(p, v);
      await utimes(p, before, before);
    }
  }
}

/** A tree as one comparable text: identical disks give identical keys. */
export function treeKey(tree: Tree): string {
  return [...tree].map(([p, v]) => `${p}\u0000${v === 'dir' ? 'dir' : v.toString('base64')}`).join('\n');
}

export async function readLog(path: string): Promise<DiskRecord[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DiskRecord);
}
