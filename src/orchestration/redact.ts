import {
  looksLikeSecret,
  looksRandom,
  scrubMessage,
  scrubRandomWords,
  scrubSecrets,
} from '../domain/secrets.js';

/** What replaces a sensitive value. */
export const REDACTED = '[redacted]';

/** Key names that hold secrets by default. */
export const DEFAULT_SENSITIVE = /(api[-_]?key|secret|token|password|authorization|credential)/i;

/** `apiKeyEnv`, `TOKEN_ENV`: these hold the *name* of a variable, never the secret itself. */
const NAMES_A_VARIABLE = /env$/i;

/** `maxTokens: 4096` is a count, not a secret: numbers under keys ending in "tokens" are kept. */
const COUNTS_TOKENS = /tokens$/i;

/** Shorter values are not scrubbed out of free text: too likely to match innocent words. */
const MIN_SCRUB_LENGTH = 6;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Deep redaction for everything that leaves the engine (run log, events, errors). Values under
 * sensitive keys become "[redacted]"; the secret strings it has seen are also scrubbed out of
 * any other string (an error message that quotes a key, say), so one redactor per run.
 */
export class Redactor {
  readonly #extra: Set<string>;
  readonly #secrets = new Set<string>();
  #scrubber: RegExp | undefined;

  constructor(extraKeys: Iterable<string> = []) {
    this.#extra = new Set([...extraKeys].map((k) => k.toLowerCase()));
  }

  /** True if values under this key are secrets. */
  isSensitive(key: string): boolean {
    if (this.#extra.has(key.toLowerCase())) return true;
    return DEFAULT_SENSITIVE.test(key) && !NAMES_A_VARIABLE.test(key);
  }

  /** A secret by key, or a key pasted where a variable name belongs (`apiKeyEnv: "sk-..."`). */
  #isSecret(key: string, value: unknown): boolean {
    if (this.isSensitive(key)) return !(typeof value === 'number' && COUNTS_TOKENS.test(key));
    return NAMES_A_VARIABLE.test(key) && typeof value === 'string' && looksLikeSecret(value);
  }

  /** A redacted deep copy of `value` (JSON-like data; other objects are kept as they are). */
  redact<T>(value: T): T {
    this.#collect(value, 0);
    return this.#copy(value, 0) as T;
  }

  /**
   * Like `redact`, and every word of a string (or key) that looks like a key of no known format
   * (32 hex digits, a long run of mixed letters and digits; see scrubRandomWords) is redacted
   * too, whatever its field: for what is kept only to be read (an input nothing reads back),
   * where a key pasted into the wrong field (`temperature`, with a blank or `Bearer ` around
   * it) must not be kept, though it was refused.
   */
  redactKeyLike<T>(value: T): T {
    this.#collect(value, 0);
    return this.#copy(value, 0, false, true) as T;
  }

  /** Remember secrets inside `value` without copying it (e.g. the workflow input at the start). */
  learn(value: unknown): void {
    this.#collect(value, 0);
  }

  #collect(value: unknown, depth: number): void {
    if (depth > 32) return;
    if (Array.isArray(value)) {
      for (const item of value) this.#collect(item, depth + 1);
    } else if (isPlainObject(value)) {
      for (const k in value) {
        const item = value[k];
        if (this.#isSecret(k, item)) this.#remember(item);
        else this.#collect(item, depth + 1);
      }
    }
  }

  #remember(value: unknown): void {
    if (typeof value === 'string') {
      if (value.length >= MIN_SCRUB_LENGTH && !this.#secrets.has(value)) {
        this.#secrets.add(value);
        this.#scrubber = undefined;
      }
    } else if (Array.isArray(value)) {
      for (const v of value) this.#remember(v);
    } else if (isPlainObject(value)) {
      for (const k in value) this.#remember(value[k]);
    }
  }

  #scrub(raw: string): string {
    // Keys and tokens recognised by their format, whatever field they were pasted into.
    const text = scrubSecrets(raw);
    if (this.#secrets.size === 0) return text;
    this.#scrubber ??= new RegExp(
      [...this.#secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.#scrubber, REDACTED);
  }

  /**
   * `inError`: inside a serialized error (its context, its cause): a whole value there that
   * looks like a key of no known format is redacted, as its message's quote of it is.
   * `keyLike`: such a value is redacted wherever it is.
   */
  #copy(value: unknown, depth: number, inError = false, keyLike = false): unknown {
    if (typeof value === 'string') {
      if (keyLike) return scrubRandomWords(this.#scrub(value));
      return inError && keyShaped(value) ? REDACTED : this.#scrub(value);
    }
    if (depth > 32 || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => this.#copy(v, depth + 1, inError, keyLike));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      if (value instanceof Error) return this.#scrub(value.message);
      return value;
    }
    const source = value as Record<string, unknown>;
    const error = inError || isErrorLike(source);
    const out: Record<string, unknown> = {};
    for (const k in source) {
      const item = source[k];
      // A key is written down as much as a value: a token used as one (`{"sk-…": 1}`) is scrubbed
      // too, numbered if two come out the same (none is dropped).
      const scrubbed = keyLike ? scrubRandomWords(this.#scrub(k)) : this.#scrub(k);
      let key = scrubbed;
      if (key !== k) for (let n = 2; Object.hasOwn(out, key); n++) key = `${scrubbed}#${n}`;
      out[key] =
        item !== undefined && this.#isSecret(k, item)
          ? REDACTED
          : k === 'message' && typeof item === 'string' && error
            ? scrubMessage(this.#scrub(item)) // an error's: what it quotes may be a key of no known format
            : this.#copy(item, depth + 1, error, keyLike);
    }
    return out;
  }
}

/** One token (no blanks, no punctuation but what keys hold) that looks like a key of no known format. */
const keyShaped = (v: string) => /^[A-Za-z0-9+/_=.-]{32,}$/.test(v) && looksRandom(v);

/** A serialized error (`code`) or one of its issues (`path`): the holders of messages that quote values. */
const isErrorLike = (o: Record<string, unknown>) => typeof o.code === 'string' || typeof o.path === 'string';

/** One-off deep redaction with the default rules plus `extraKeys`. */
export function redact<T>(value: T, extraKeys: Iterable<string> = []): T {
  return new Redactor(extraKeys).redact(value);
}
