import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TroupeError } from '../domain/errors.js';

/** The config directory used when neither --dir nor $TROUPE_HOME is given, and none is found. */
export const DEFAULT_DIR = './.troupe-config';

/** What marks a troupe directory: its store's marker file. */
const MARKER = join('.troupe', 'store.json');

/** Where the configuration directory is, and how it was chosen. */
export interface Located {
  dir: string;
  /** `flag`: --dir; `env`: $TROUPE_HOME; `found`: searched upward; `default`: none was found. */
  how: 'flag' | 'env' | 'found' | 'default';
}

const isTroupeDir = (dir: string) => existsSync(join(dir, MARKER));

/**
 * --dir, else $TROUPE_HOME, else searched upward from the working directory like git: at each
 * level, a `.troupe-config/` that is a troupe directory, or the level itself if it is one; the
 * first found wins. With none found, `./.troupe-config` (where `troupe init` creates one).
 */
export function locateDir(cwd: string, flag: string | undefined, env: string | undefined): Located {
  if (flag !== undefined) return { dir: resolve(cwd, flag), how: 'flag' };
  if (env) return { dir: resolve(cwd, env), how: 'env' };
  for (let at = resolve(cwd); ; at = dirname(at)) {
    const nested = join(at, DEFAULT_DIR);
    if (isTroupeDir(nested)) return { dir: nested, how: 'found' };
    if (isTroupeDir(at)) return { dir: at, how: 'found' };
    if (dirname(at) === at) break;
  }
  return { dir: resolve(cwd, DEFAULT_DIR), how: 'default' };
}

/** The troupe directory that holds `dir` (an ancestor of it that is one), if any. */
export function enclosingTroupeDir(dir: string): string | undefined {
  for (let at = dirname(resolve(dir)); ; at = dirname(at)) {
    if (isTroupeDir(at)) return at;
    if (dirname(at) === at) return undefined;
  }
}

/** A path given as the directory that exists but is not one: a clear error, not a raw EEXIST. */
export function assertNotAFile(dir: string, shown: string): void {
  let file = false;
  try {
    file = !statSync(dir).isDirectory();
  } catch {
    return; // missing (init creates it) or unreadable (the store reports it)
  }
  if (file)
    throw new TroupeError(
      'USAGE',
      `${shown} is a file, not a directory: pass --dir a directory (an existing troupe directory, or one for \`troupe init\` to create)`,
      { context: { dir } },
    );
}

/** The error for a command run where no troupe directory was found, searched upward. */
export function notFound(cwd: string): TroupeError {
  return new TroupeError(
    'NOT_A_TROUPE_DIRECTORY',
    `no troupe directory here or in any parent of ${cwd} (looked for ${DEFAULT_DIR}/ and ${MARKER} at each level); run \`troupe init\` to create one, or pass --dir or set $TROUPE_HOME`,
    { context: { cwd } },
  );
}

export { isTroupeDir };
