import { createHash } from 'node:crypto';
import type { Redactor } from './redact.js';

/** Values whose JSON is longer than this are logged by digest where recovery never reads them. */
export const LOG_INLINE_BYTES = 256 * 1024;

/** What the run log holds in place of a large value: its size and a digest of its JSON. */
export interface LoggedDigest {
  $digest: string;
  bytes: number;
}

export const isDigest = (v: unknown): v is LoggedDigest =>
  typeof v === 'object' && v !== null && typeof (v as { $digest?: unknown }).$digest === 'string';

/** The digest of a value's JSON text. */
export function digestOf(text: string): LoggedDigest {
  return {
    $digest: `sha256:${createHash('sha256').update(text).digest('hex')}`,
    bytes: Buffer.byteLength(text),
  };
}

/**
 * A value as the run log keeps it: redacted, or, when recovery never reads it back (`keep`
 * false) and its JSON is large, only its digest — a 50 MB bundle is in the commit, not copied
 * into the log (and not scanned for secrets to be copied there). A value recovery never reads
 * back is kept only to be shown, so a string in it that looks like a key of no known format
 * (an Azure key pasted into `temperature`, refused) is redacted too, whatever its field.
 */
export function forLog(value: unknown, redactor: Redactor, keep: boolean): unknown {
  if (keep) return redactor.redact(value);
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value);
    if (text !== undefined && text.length > LOG_INLINE_BYTES) return digestOf(text);
  }
  return redactor.redactKeyLike(value);
}
