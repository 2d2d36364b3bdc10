import { basename, dirname } from 'node:path';
import { keyOf } from '../batch.js';
import {
  type ChangeEvent,
  KINDS,
  type Kind,
  type RelistEvent,
  type Store,
  type WatchOptions,
} from '../store.js';
import { entityIdFromFileName, isTempName } from './layout.js';

type Found = { path: string; gone: boolean };

/**
 * The change feed of a directory, from the file system's own notices (chokidar): each
 * `<id>.json` that appears, changes or goes, read back through the store, so a commit's
 * temporary files and an unchanged rewrite are not news. A directory keeps no history of
 * changes: the feed starts when the watch does, positions count this watch's changes, and a
 * `fromRevision` is answered with `relist`.
 */
export async function* watchDirectory(
  store: Pick<Store, 'get' | 'list'>,
  kindDir: (kind: Kind) => string,
  opts: WatchOptions = {},
): AsyncGenerator<ChangeEvent | RelistEvent> {
  const { watch } = await import('chokidar');
  const signal = opts.signal;
  const queue: Found[] = [];
  let wake: () => void = () => {};
  const poke = () => wake();
  signal?.addEventListener('abort', poke, { once: true });
  const dirs = new Map(KINDS.map((k) => [kindDir(k), k] as const));
  const watcher = watch([...dirs.keys()], { ignoreInitial: true, depth: 0 });
  const found = (gone: boolean) => (path: string) => {
    queue.push({ path, gone });
    wake();
  };
  watcher.on('add', found(false)).on('change', found(false)).on('unlink', found(true));
  try {
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve).once('error', reject);
    });
    // What is there now: a change is news only if it moves a document's revision.
    const known = new Map<string, number>();
    for (const k of KINDS) for (const d of await store.list(k)) known.set(keyOf(k, d.id), d.revision);
    let position = 0;
    opts.onReady?.();
    if (opts.fromRevision !== undefined)
      yield {
        type: 'relist',
        position,
        reason: 'a directory keeps no history of changes: list it, then watch from now',
      };
    while (!signal?.aborted) {
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (queue.length || signal?.aborted) resolve();
        });
        continue;
      }
      const kind = dirs.get(dirname(next.path));
      const name = basename(next.path);
      const id = kind && !isTempName(name) ? entityIdFromFileName(name) : undefined;
      if (!kind || !id) continue;
      const key = keyOf(kind, id);
      const doc = next.gone ? undefined : await store.get(kind, id).catch(() => undefined);
      const before = known.get(key);
      if (doc) {
        if (before === doc.revision) continue;
        known.set(key, doc.revision);
        position++;
        yield {
          type: 'change',
          position,
          op: 'put',
          kind,
          id,
          revision: doc.revision,
          writer: doc.commit ?? null,
        };
      } else if (before !== undefined && !(await store.get(kind, id).catch(() => undefined))) {
        known.delete(key);
        position++;
        yield { type: 'change', position, op: 'delete', kind, id, revision: before, writer: null };
      }
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    await watcher.close();
  }
}
