import { createHash, timingSafeEqual } from 'node:crypto';
import { TroupeError } from '../domain/errors.js';

/** What a request may do: read, or read and write. */
export type Scope = 'read' | 'write';

export interface Tokens {
  /** Reads and writes (`TROUPE_TOKEN`). */
  write?: string | undefined;
  /** Reads only (`TROUPE_READ_TOKEN`). */
  read?: string | undefined;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Equal, in time that does not depend on where they differ (nor on their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The scope a request's `Authorization: Bearer …` grants, or undefined when it grants none.
 * Without any token configured every request may write (loopback only: see checkListen).
 */
export function scopeOf(header: string | undefined, tokens: Tokens): Scope | undefined {
  if (!tokens.write && !tokens.read) return 'write';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const given = m[1];
  // Both compared, always: the time taken says nothing about which one matched.
  const writes = tokens.write ? sameSecret(given, tokens.write) : false;
  const reads = tokens.read ? sameSecret(given, tokens.read) : false;
  return writes ? 'write' : reads ? 'read' : undefined;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Refuses to listen beyond this machine without a token, and a token too short to be one. */
export function checkListen(host: string, tokens: Tokens): void {
  if (!tokens.write && !tokens.read && !LOOPBACK.has(host))
    throw new TroupeError(
      'USAGE',
      `refusing to listen on ${host} without a token: set TROUPE_TOKEN (and TROUPE_READ_TOKEN for read-only clients), or listen on 127.0.0.1`,
    );
  for (const [name, t] of [
    ['TROUPE_TOKEN', tokens.write],
    ['TROUPE_READ_TOKEN', tokens.read],
  ] as const)
    if (t !== undefined && t.length < 16)
      throw new TroupeError('USAGE', `${name} must be at least 16 characters (it is ${t.length})`);
    else if (t !== undefined && /[^\x21-\x7e]/.test(t))
      // A bearer token is one word of printable ASCII: one with a space or a line break in it
      // (a trailing newline from a file) could never be sent, and would lock every client out.
      throw new TroupeError(
        'USAGE',
        `${name} must be printable ASCII with no spaces or line breaks (a bearer token is one word)`,
      );
  if (tokens.write && tokens.read && sameSecret(tokens.write, tokens.read))
    throw new TroupeError('USAGE', 'TROUPE_READ_TOKEN must differ from TROUPE_TOKEN');
}
