import { resolve } from 'node:path';
import { TroupeError } from '../domain/errors.js';

/** Where the configuration lives, as `--store` or `$TROUPE_STORE` names it. */
export type StoreTarget =
  | { engine: 'file'; dir: string }
  | { engine: 'postgres'; url: string }
  | { engine: 'pglite'; dir: string };

/**
 * `postgres://…` (or `postgresql://…`) is PostgreSQL; `pglite:PATH` an embedded PGlite
 * database in PATH; `file:PATH` or a plain path the file store. Paths are taken from `cwd`.
 */
export function parseStoreTarget(text: string, cwd: string): StoreTarget {
  const given = text.trim();
  if (/^postgres(ql)?:\/\//i.test(given)) return { engine: 'postgres', url: given };
  if (/^pglite:/i.test(given)) {
    const path = given.slice('pglite:'.length);
    if (!path) throw usage('pglite: needs a directory, e.g. pglite:./troupe-db');
    return { engine: 'pglite', dir: resolve(cwd, path) };
  }
  if (/^file:/i.test(given)) {
    const path = given.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw usage('file: needs a directory, e.g. file:./agents-config');
    return { engine: 'file', dir: resolve(cwd, path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given))
    throw usage(
      `--store ${given.split('://')[0]}://… is not a store troupe knows: use a directory, file:PATH, pglite:PATH or postgres://…`,
    );
  if (!given) throw usage('--store needs a value: a directory, file:PATH, pglite:PATH or postgres://…');
  return { engine: 'file', dir: resolve(cwd, given) };
}

/** How a store is named in messages: its place, never a password. */
export function describeTarget(t: StoreTarget): string {
  if (t.engine !== 'postgres') return t.engine === 'pglite' ? `pglite:${t.dir}` : t.dir;
  try {
    const u = new URL(t.url);
    // Of the parameters only the schema: one may be a password (`?password=`).
    const schema = u.searchParams.get('schema');
    return `postgres://${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}${schema === null ? '' : `?schema=${schema}`}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

const usage = (message: string) => new TroupeError('USAGE', message);
