import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { EntityId } from '../../domain/common.js';
import { printable } from '../../domain/text.js';
import type { Kind } from '../store.js';

/** The hidden folder holding the store's own files; everything else in the root is readable data. */
export const TROUPE_DIR = '.troupe';
/** Version of the on-disk layout, written to `.troupe/store.json`. */
export const STORE_FORMAT = 1;

/** Absolute paths of one store's files. Relative names (for messages) always use `/`. */
export class Layout {
  readonly troupe: string;
  readonly marker: string;
  readonly journal: string;
  readonly lock: string;
  readonly backups: string;
  readonly gitignore: string;

  constructor(readonly root: string) {
    this.troupe = join(root, TROUPE_DIR);
    this.marker = join(this.troupe, 'store.json');
    this.journal = join(this.troupe, 'journal');
    this.lock = join(this.troupe, 'lock');
    this.backups = join(this.troupe, 'backups');
    this.gitignore = join(this.troupe, '.gitignore');
  }

  kindDir(kind: Kind): string {
    return join(this.root, kind);
  }

  entity(kind: Kind, id: string): string {
    return join(this.root, kind, `${id}.json`);
  }

  backupDir(kind: Kind, id: string): string {
    return join(this.backups, kind, id);
  }

  backup(kind: Kind, id: string, revision: number): string {
    return join(this.backups, kind, id, `${revision}.json`);
  }
}

export const entityRel = (kind: Kind, id: string) => `${kind}/${id}.json`;
export const backupRel = (kind: Kind, id: string, revision: number) =>
  `${TROUPE_DIR}/backups/${kind}/${id}/${revision}.json`;

/** `calm.json` → `calm`; hidden files (temp files start with a dot) and other extensions → undefined. */
export function idFromFileName(name: string): string | undefined {
  if (name.startsWith('.') || !name.endsWith('.json')) return undefined;
  return name.slice(0, -'.json'.length);
}

/** The id of an entity file `<id>.json` whose id is a valid slug; anything else is a stray. */
export function entityIdFromFileName(name: string): string | undefined {
  const id = idFromFileName(name);
  return id !== undefined && EntityId.safeParse(id).success ? id : undefined;
}

/**
 * Why a name in a kind folder is not an entity file: a link, not a regular file, or a name
 * that is not `<id>.json` with a valid id (the id's own rule said).
 */
export function strayWhy(name: string, type: 'link' | 'other' | 'folder' | 'file'): string {
  if (type === 'folder') return 'a folder: troupe reads only <id>.json files here';
  if (type === 'link') return 'a symbolic link: troupe never follows links (copy the file in instead)';
  if (type === 'other')
    return 'not a regular file (a FIFO, a socket, a device, or a folder named like a file)';
  const id = idFromFileName(name);
  if (id === undefined) return 'not an <id>.json file (bring YAML in with `troupe import`)';
  const parsed = EntityId.safeParse(id);
  const rule = parsed.success ? undefined : parsed.error.issues[0]?.message;
  return `the name is not <id>.json with a valid id (id "${printable(id)}": ${rule ?? 'refused'})`;
}

/** A sibling temp name that is hidden and does not end in `.json`, so readers never take it for data. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export const isTempName = (name: string) => name.startsWith('.') && name.endsWith('.tmp');

/** The pid of the process that made a temp file (tempPathFor puts it in the name), if it says. */
export function tempWriter(name: string): number | undefined {
  const m = /\.(\d+)-[0-9a-f]{8}\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
