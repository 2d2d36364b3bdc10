import { lstatSync } from 'node:fs';
import { relative } from 'node:path';
import { TroupeError } from '../../domain/errors.js';
import { KINDS } from '../store.js';
import { errnoOf } from './io.js';
import type { Layout } from './layout.js';

/** The error for a symbolic link where troupe keeps a file or folder of its own; never its target. */
export function linkRefused(
  layout: Layout,
  path: string,
  what: 'file' | 'folder',
  /** The entity whose file it is, if it is one: named in the context, as any refused entity file. */
  entity?: { kind: string; id: string },
): TroupeError {
  const rel = relative(layout.root, path).split('\\').join('/');
  return new TroupeError(
    'VALIDATION_FAILED',
    `${rel} is a symbolic link: troupe never follows links inside its directory (a link committed to a repository could point anywhere); replace it with a regular ${what}`,
    {
      issues: [{ file: rel, path: '(file)', message: 'is a symbolic link' }],
      context: { path: rel, ...entity },
    },
  );
}

/** True when `path` is a symbolic link (false when it does not exist). */
export function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return false;
    throw e;
  }
}

/**
 * Refuses a store whose own parts are symbolic links: `.troupe/` and what is in it (journal,
 * lock, marker, backups, run logs) and the kind folders. A handful of lstat calls, on open.
 */
export function assertNoLinks(layout: Layout): void {
  const parts: Array<readonly [string, 'file' | 'folder']> = [
    [layout.troupe, 'folder'],
    ...[layout.marker, layout.journal, layout.lock, `${layout.lock}.breaking`, layout.gitignore].map(
      (p) => [p, 'file'] as const,
    ),
    ...[
      layout.backups,
      `${layout.troupe}/runs`,
      ...KINDS.map((k) => layout.kindDir(k)),
      ...KINDS.map((k) => `${layout.backups}/${k}`),
    ].map((p) => [p, 'folder'] as const),
  ];
  for (const [p, what] of parts) if (isLink(p)) throw linkRefused(layout, p, what);
}
