import { createHash } from 'node:crypto';
import { scrubStored } from '../domain/secrets.js';
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

/** The digest of a value whose JSON is longer than LOG_INLINE_BYTES; undefined for any other. */
function digestIfLarge(value: unknown): LoggedDigest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const text = JSON.stringify(value);
  return text !== undefined && text.length > LOG_INLINE_BYTES ? digestOf(text) : undefined;
}

/**
 * A value as the run log keeps it: redacted, or, when recovery never reads it back (`keep`
 * false) and its JSON is large, only its digest — a 50 MB bundle is in the commit, not copied
 * into the log (and not scanned for secrets to be copied there).
 */
export function forLog(value: unknown, redactor: Redactor, keep: boolean): unknown {
  return (!keep && digestIfLarge(value)) || redactor.redact(value);
}

/**
 * An input (a run's, a step's) as the run log keeps it, as forLog does. One recovery never
 * reads back is kept only to be shown, and it is what the caller gave, not yet checked: a
 * string in it that looks like a key of no known format (an Azure key pasted into
 * `temperature`, refused) is redacted too, whatever its field. (Outputs are what the store
 * took, and the checks of a run's recovery read them back as they were.)
 */
export function inputForLog(value: unknown, redactor: Redactor, keep: boolean): unknown {
  if (keep) return redactor.redact(value);
  return digestIfLarge(value) ?? redactor.redactKeyLike(value);
}

/**
 * A logged value of a configuration service's step (see RunnerOptions.configurationServices)
 * with every key of the Azure shape in it redacted outside ids; as it was for any other service.
 */
export const shapeScrubbed = (value: unknown, configuration: boolean): unknown =>
  configuration ? scrubStored(value) : value;
