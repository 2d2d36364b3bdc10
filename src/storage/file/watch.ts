import { basename, dirname } from 'node:path';
import { TroupeError } from '../../domain/errors.js';
import { keyOf } from '../batch.js';
import {
  type ChangeEvent,
  KINDS,
  type Kind,
  type RelistEvent,
  type Store,
  type StoredDoc,
  type WatchOptions,
} from '../store.js';
import { entityIdFromFileName, isTempName } from './layout.js';

/** A notice of a file; `again`: the second look at it (see RECHECK_MS). */
type Found = { path: string; gone: boolean; tries?: number; again?: boolean };

/** How long after a notice its file is looked at once more. */
const RECHECK_MS = 150;

/**
 * The change feed of a directory, from the file system's own notices (chokidar): each
 * `<id>.json` that appears, changes or goes, read back through the store, so a commit's
 * temporary files and an unchanged rewrite are not news. A directory keeps no history of
 * changes: the feed starts when the watch does, positions count this watch's changes, and a
 * `fromRevision` is answered with `relist`.
 */
export async function* watchDirectory(
  store: Pick<Store, 'get' | 'list' | 'scan'>,
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
  // A watcher that fails later ends the feed with the error (an unheard one would end the process).
  let failure: unknown;
  watcher.on('error', (e) => {
    failure ??= e;
    wake();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', resolve).once('error', reject);
    });
    // What is there now: a change is news only if it moves a document's revision.
    // Each document's revision and content as last heard: a hand edit keeps the revision it
    // says, so what it changed is told by the content.
    const known = new Map<string, { revision: number; content: string }>();
    const seen = (d: StoredDoc) => ({ revision: d.revision, content: JSON.stringify(d) });
    // What can be read: a file broken by hand is no reason to stop watching (its fix is news).
    const readable = async (k: Kind) =>
      store.scan ? (await store.scan(k)).flatMap((e) => (e.doc ? [e.doc] : [])) : store.list(k);
    for (const k of KINDS) for (const d of await readable(k)) known.set(keyOf(k, d.id), seen(d));
    let position = 0;
    opts.onReady?.();
    if (opts.fromRevision !== undefined)
      yield {
        type: 'relist',
        position,
        reason: 'a directory keeps no history of changes: list it, then watch from now',
      };
    while (!signal?.aborted) {
      if (failure !== undefined)
        throw new TroupeError(
          'IO_ERROR',
          `the change feed of ${dirname(kindDir('personalities'))} stopped: ${String(failure)}`,
          {
            cause: failure,
          },
        );
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (queue.length || signal?.aborted || failure !== undefined) resolve();
        });
        continue;
      }
      const kind = dirs.get(dirname(next.path));
      const name = basename(next.path);
      const id = kind && !isTempName(name) ? entityIdFromFileName(name) : undefined;
      if (!kind || !id) continue;
      const key = keyOf(kind, id);
      let unreadable = false;
      const doc = next.gone
        ? undefined
        : await store.get(kind, id).catch(() => {
            unreadable = true;
            return undefined;
          });
      // Half written (a hand edit being saved): read again shortly, as the notice of the rest of
      // the write may have been folded into this one.
      if (unreadable && (next.tries ?? 0) < 50) {
        setTimeout(() => {
          queue.push({ ...next, tries: (next.tries ?? 0) + 1 });
          wake();
        }, 100).unref();
        continue;
      }
      const before = known.get(key);
      // A write right after another may reach the watcher folded into it (its notice throttled):
      // each notice heard is looked at once more shortly after, so no content is missed.
      if (!next.again && !next.gone) {
        setTimeout(() => {
          queue.push({ ...next, again: true });
          wake();
        }, RECHECK_MS).unref();
      }
      if (doc) {
        const now = seen(doc);
        if (before !== undefined && before.revision === now.revision && before.content === now.content)
          continue;
        known.set(key, now);
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
      } else if (next.gone && before !== undefined && !(await store.get(kind, id).catch(() => undefined))) {
        // Only a removal is a delete: a file that cannot be read right now (half written by hand)
        // is not news until it can.
        known.delete(key);
        position++;
        yield { type: 'change', position, op: 'delete', kind, id, revision: before.revision, writer: null };
      }
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    await watcher.close();
  }
}
