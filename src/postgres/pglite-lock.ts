import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TroupeError } from '../domain/errors.js';
import { currentHolder, type Holder, holderState } from '../platform/holder.js';

/**
 * PGlite takes one process at a time and locks nothing itself: a second process opening the
 * same directory would corrupt it. This lock file (created exclusively, naming its process)
 * refuses the second one with LOCK_FAILED; one a dead process left is taken over.
 */
export function lockPgliteDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'troupe.lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, JSON.stringify(currentHolder()), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          unlinkSync(file);
        } catch {}
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: Holder | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
      } catch {}
      const state = holder ? holderState(holder) : 'dead';
      if (state === 'dead') {
        unlinkSync(file);
        continue;
      }
      throw new TroupeError(
        'LOCK_FAILED',
        `pglite:${dir} is open in ${state === 'self' ? 'this process' : `process ${holder?.pid} on ${holder?.host}`}: PGlite serves one process at a time (a server wants postgres://…)`,
        { retryable: false, context: { dir, holder } },
      );
    }
  }
  throw new TroupeError('LOCK_FAILED', `pglite:${dir}: could not take its lock`, { context: { dir } });
}
