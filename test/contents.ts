import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a compensation rightly moves on: store metadata and the revisions agents point at (an
 * undo is a new revision with the old content; revisions never go back).
 */
const METADATA = new Set([
  'revision',
  'createdAt',
  'updatedAt',
  'commit',
  'personalityVersion',
  'roleVersion',
]);

/** The content of every entity and resolved file under dir, by path, without that metadata. */
export async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of ['personalities', 'roles', 'agents', 'models', 'resolved'])
    for (const f of (await readdir(join(dir, k)).catch(() => [] as string[])).sort())
      if (f.endsWith('.json'))
        out[`${k}/${f}`] = JSON.stringify(
          JSON.parse(await readFile(join(dir, k, f), 'utf8')),
          (key, v: unknown) => (METADATA.has(key) ? undefined : v),
        );
  return out;
}
