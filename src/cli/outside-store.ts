import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { TroupeError } from '../domain/errors.js';
import { KINDS } from '../storage/store.js';

/** Where a path leads once its links are followed (its folder's, when it does not exist yet). */
async function realPlace(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const folder = await realPlace(dirname(path)).catch(() => dirname(path));
    return join(folder, basename(path));
  }
}

/** The folders of a directory store that are its own: its entities' and `.troupe`. */
const OWN = new Set<string>(['.troupe', ...KINDS]);

/**
 * Refuses an output path inside a directory store's own folders (`.troupe/`, `personalities/`,
 * …), links followed: written there, a bundle or a schema would break the store (its marker, its
 * journal) or be taken for an entity. `allowed`: folders under the store where the output
 * belongs (the schemas' own, `.troupe/schemas`).
 */
export async function refuseInsideStore(
  storeDir: string,
  path: string,
  shown: string,
  allowed: readonly string[] = [],
): Promise<void> {
  const [store, place] = await Promise.all([realPlace(storeDir), realPlace(path)]);
  const rel = relative(store, place);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return;
  const parts = rel.split(sep);
  if (!OWN.has(parts[0] ?? '')) return;
  if (allowed.some((a) => rel === a || rel.startsWith(`${a}${sep}`))) return;
  throw new TroupeError(
    'USAGE',
    `${shown} is inside the configuration directory's own ${parts[0]}/ folder: write it elsewhere (troupe keeps only its own files there)`,
    { context: { output: shown } },
  );
}
