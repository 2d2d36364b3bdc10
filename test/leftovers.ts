import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bootedAt } from '../src/platform/liveness.js';

/**
 * A lock whose holder is dead stays until the next writer breaks it (at once): it blocks
 * nothing. An empty or unreadable lock has no known holder and counts as left behind, unless
 * it was last changed before the machine started (a power loss): that too is broken at once.
 */
async function heldByLiveProcess(file: string): Promise<boolean> {
  let pid: number;
  try {
    ({ pid } = JSON.parse(await readFile(file, 'utf8')) as { pid: number });
  } catch {
    return (await stat(file)).mtimeMs >= bootedAt();
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a change must never leave anywhere under dir: a live or ownerless lock, a lock guard, a
 * temp file, or a run log not finished for good (a log without one whole line is a run stopped
 * before it recorded anything, which is removed after a minute).
 */
export async function leftovers(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else if (p === '.troupe/lock') {
        if (await heldByLiveProcess(join(dir, p))) out.push(p);
      } else if (e.name === 'lock.breaking' || e.name.endsWith('.tmp')) out.push(p);
      else if (
        rel.endsWith('runs') &&
        !e.name.endsWith('.done.jsonl') &&
        (await readFile(join(dir, p), 'utf8')).includes('\n')
      )
        out.push(p);
    }
  };
  await walk('');
  return out;
}
