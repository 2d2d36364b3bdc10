/**
 * The one secret detector: the key and token formats troupe refuses anywhere in configuration
 * and scrubs out of everything it writes or prints (run logs, errors, output). Each format has
 * a test of its own in secrets.test.ts.
 */
export const SECRET_FORMATS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'Anthropic API key', pattern: /sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{16,}/g },
  {
    name: 'OpenAI API key',
    pattern: /(?:sk-(?:proj|svcacct|admin)-|(?<![A-Za-z0-9])sk-)[A-Za-z0-9_-]{16,}/g,
  },
  { name: 'Stripe key', pattern: /(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { name: 'GitHub token', pattern: /gh[pousr]_[A-Za-z0-9]{30,}/g },
  { name: 'GitHub fine-grained token', pattern: /github_pat_[A-Za-z0-9_]{20,}/g },
  { name: 'GitLab token', pattern: /gl(?:pat|dt|ptt|rt)-[A-Za-z0-9_-]{20,}/g },
  { name: 'Slack token', pattern: /xox[abposr]-[A-Za-z0-9-]{10,}/g },
  {
    name: 'AWS access key id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])/g,
  },
  {
    name: 'AWS secret access key',
    pattern:
      /(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*\d)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
  },
  { name: 'Google API key', pattern: /AIza[0-9A-Za-z_-]{30,}/g },
  { name: 'xAI, Groq or Hugging Face token', pattern: /(?<![A-Za-z0-9])(?:xai|gsk|hf)[-_][A-Za-z0-9]{20,}/g },
  { name: 'JSON Web Token', pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  // A token after the word (an `Authorization` header pasted in): one with a digit in it, so
  // prose (`the bearer responsibilities-and-duties`) is not one.
  {
    name: 'Bearer token',
    pattern: /(?<![A-Za-z0-9])[Bb]earer\s+(?=[A-Za-z._~+/-]*\d)[A-Za-z0-9._~+/-]{20,}=*/g,
  },
  { name: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/g },
  // The scheme begins a run of its characters and is short: tried from every letter of a long
  // run, an unbounded one made a long string cost its length squared.
  {
    name: 'credentials in a URL',
    pattern: /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/:@]+:[^\s/@]+@/gi,
  },
  {
    name: 'key in a URL query',
    pattern: /[?&](?:api[_-]?key|key|token|access[_-]?token|secret|password|auth)=[^&\s#]+/gi,
  },
  { name: '40-character hex token', pattern: /(?<![0-9A-Fa-f])[0-9A-Fa-f]{40}(?![0-9A-Fa-f])/g },
];

/**
 * Looks like a secret rather than a variable name: a known format, or a long token with
 * lowercase letters or made of hex digits only (variable names are conventionally upper case,
 * so `ACME_PRODUCTION_OPENAI_API_KEY_V2` is a name, not a key).
 */
const KEY_PREFIX = /^(sk-|sk_|pk-|rk_|xai-|AIza|gh[pousr]_|github_pat_|glpat-|xox|gsk_|hf_|AKIA|ASIA)/;
const LONG_TOKEN = /^(?=.*[a-z])[A-Za-z0-9+/_=-]{32,}$/;
const HEX_TOKEN = /^[0-9A-Fa-f_]{32,}$/;

export const looksLikeSecret = (value: string): boolean =>
  KEY_PREFIX.test(value) || LONG_TOKEN.test(value) || HEX_TOKEN.test(value) || containsSecret(value);

/** The formats found inside a text (empty when none). */
export function secretFormatsIn(text: string): string[] {
  return SECRET_FORMATS.filter(({ pattern }) => {
    pattern.lastIndex = 0;
    return pattern.test(text);
  }).map((f) => f.name);
}

/** True when a text (a prompt, a name, a URL, a stop sequence) carries a key or token. */
export const containsSecret = (text: string): boolean => !isClean(text);

/**
 * Formats told by their shape alone (no prefix): an identifier or a hash may have that shape
 * too (`nightlyReconcileOfProductionAgents2025v1` is 40 mixed characters, a git commit 40 hex).
 */
const SHAPE_ONLY = new Set(['AWS secret access key', '40-character hex token']);

/** True when a text carries a key of a format its prefix or structure tells (not its shape alone). */
export const containsMarkedSecret = (text: string): boolean =>
  !isClean(text) && secretFormatsIn(text).some((f) => !SHAPE_ONLY.has(f));

/** What a scrubbed secret is replaced with. */
export const SCRUBBED = '[redacted]';

/**
 * Every format in one pass (one alternation per set of flags): a text none matches, as almost
 * every text is, is left as it is after two scans instead of one per format. An alternation
 * matches wherever one of its alternatives does, so it finds every text a format would.
 */
const ANY_FORMAT = [true, false].flatMap((insensitive) => {
  const sources = SECRET_FORMATS.filter((f) => f.pattern.ignoreCase === insensitive).map(
    (f) => `(?:${f.pattern.source})`,
  );
  return sources.length ? [new RegExp(sources.join('|'), insensitive ? 'i' : '')] : [];
});

/**
 * Texts found clean already (most recur: ids, names, timestamps, the same descriptions in
 * event after event), so each is scanned once. Bounded, and only clean texts: a text with a
 * secret in it is never kept.
 */
const clean = new Set<string>();
const CLEAN_MAX = 8192;
const CLEAN_TEXT_MAX = 1024;

/** True when the text holds no key or token of a known format (remembered when it is short). */
function isClean(text: string): boolean {
  if (clean.has(text)) return true;
  if (ANY_FORMAT.some((p) => p.test(text))) return false;
  if (text.length <= CLEAN_TEXT_MAX) {
    if (clean.size >= CLEAN_MAX) clean.clear();
    clean.add(text);
  }
  return true;
}

/** The text with every key or token in it replaced by "[redacted]". */
export function scrubSecrets(text: string): string {
  if (isClean(text)) return text;
  let out = text;
  for (const { pattern } of SECRET_FORMATS) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, SCRUBBED);
  }
  return out;
}

/**
 * A whole value random enough to be a key though no known format. Only ever used on what an
 * error says (its message's quotes, its context), never on stored data:
 * - exactly 32 hex digits (an Azure OpenAI key; a longer run of hex is a hash);
 * - else 32 or more characters with lowercase letters and digits mixed in (with capitals, 4
 *   digits or more; without, digits as 40% of it), and at most one `-` or `_` (names join
 *   words with them: `DeepSeek-R1-Distill-Qwen-32B-Instruct`, `gpt4o_mini_2024_07_18_deploy`).
 */
export function looksRandom(value: string): boolean {
  // A key pasted as a flag's name (`--<key>`) is the key.
  const v = value.replace(/^-{1,2}/, '');
  if (v.length < 32) return false;
  if (/^[0-9A-Fa-f]+$/.test(v)) return v.length === 32;
  if ((v.match(/[-_]/g)?.length ?? 0) > 1 || !/[a-z]/.test(v)) return false;
  const digits = v.match(/\d/g)?.length ?? 0;
  return /[A-Z]/.test(v) ? digits >= 4 : digits >= 0.4 * v.length;
}

/** A quoted value, with any blanks around it (a key pasted with a trailing space or newline). */
const QUOTED_TOKEN = /(["'])((?:\s|\\[nrt])*)([A-Za-z0-9+/_=.-]{32,})((?:\s|\\[nrt])*)\1/g;

/**
 * An error message (or a line of one) scrubbed of secrets: the known formats, and any value
 * it quotes (`got "…"`, `argument '…'`) or part of a path it names that looks like a key,
 * such as an Azure key pasted into `temperature`.
 */
export function scrubMessage(text: string): string {
  let out = scrubSecrets(text);
  // A part of a path (`--dir /tmp/<token>`, a file named by a pasted key).
  if (out.includes('/'))
    out = out.replace(PATH_PART, (m, part: string) => (looksRandom(part) ? `/${SCRUBBED}` : m));
  if (!out.includes('"') && !out.includes("'")) return out;
  return (
    out
      .replace(QUOTED_TOKEN, (m, quote: string, _before: string, inner: string) =>
        looksRandom(inner) ? `${quote}${SCRUBBED}${quote}` : m,
      )
      // A word of a quoted value (`got "Bearer <token>"`).
      .replace(QUOTED_WORDS, (m, quote: string, inner: string) =>
        RANDOM_WORD.test(inner) ? `${quote}${inner.replace(RANDOM_WORDS, randomAway)}${quote}` : m,
      )
  );
}

/** A quoted value of a line, up to 500 characters. */
const QUOTED_WORDS = /(["'])((?:(?!\1)[^\n]){1,500})\1/g;
const RANDOM_WORD = /[A-Za-z0-9+/_=.-]{32,}/;
const RANDOM_WORDS = new RegExp(RANDOM_WORD.source, 'g');
/**
 * A word redacted if it looks like a key. One with `/` in it (a path, a URL) is judged part by
 * part, as PATH_PART judges a path's parts: only a part that looks like one goes.
 */
const randomAway = (w: string): string =>
  w.includes('/') ? w.split('/').map(randomAway).join('/') : looksRandom(w) ? SCRUBBED : w;

/** One part of a path, as long as a key: `/` then the part, up to the next `/`, quote or blank. */
const PATH_PART = /\/([A-Za-z0-9+_=.-]{32,})(?=[/\s"'`,:;)]|$)/g;

export const SECRET_IN_TEXT =
  'contains what looks like an API key or token: keep secrets in environment variables (name one in model.apiKeyEnv), never in configuration';

/**
 * An Azure OpenAI key's shape: exactly 32 hex digits. Refused in the text of configuration (a
 * name, a description, a prompt) though not scrubbed everywhere by shape: ids and digests of
 * that length are legitimate in what troupe writes, and an id may be one (a UUID without dashes).
 */
const HEX_KEY = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])/;
/** Every such key in a text, for a replace. */
const HEX_KEYS = new RegExp(HEX_KEY.source, 'g');

/** A field that holds an id (its own or another entity's), where a 32-hex value is an id. */
const ID_FIELD = /(?:^|\.)(?:id|[A-Za-z]+Id)$/;

/** The dotted paths of configuration text that carries a key: every known format, and an Azure key's shape outside ids. */
export function storedSecretPaths(value: unknown): string[] {
  return secretPaths(
    value,
    '',
    0,
    (t, path) => containsSecret(t) || (HEX_KEY.test(t) && !ID_FIELD.test(path)),
  );
}

/**
 * A stored document with every key in it redacted: each known format, and an Azure key's shape
 * outside ids; the document itself when it holds none. For a copy troupe keeps of what a hand
 * put in a file (a backup, the undo a run log records).
 */
export function scrubStored<T>(doc: T): T {
  if (storedSecretPaths(doc).length === 0) return doc;
  const away = (v: unknown, path: string): unknown => {
    if (typeof v === 'string')
      return ID_FIELD.test(path) ? v : scrubSecrets(v).replace(HEX_KEYS, '[redacted]');
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x, i) => away(x, `${path}.${i}`));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, away(x, path ? `${path}.${k}` : k)]));
  };
  return away(doc, '') as T;
}

/** A stored document's JSON text with every key in it redacted (see scrubStored); rewritten only when it holds one. */
export function scrubStoredText(text: string): string {
  const scrubbed = scrubSecrets(text);
  if (!HEX_KEY.test(scrubbed)) return scrubbed;
  let doc: unknown;
  try {
    doc = JSON.parse(scrubbed);
  } catch {
    return scrubbed.replace(HEX_KEYS, '[redacted]');
  }
  const kept = scrubStored(doc);
  return kept === doc ? scrubbed : `${JSON.stringify(kept, null, 2)}\n`;
}

/**
 * The dotted paths of every string inside `value` that carries a key or token (`found`: how a
 * string is judged; by default every known format).
 */
export function secretPaths(
  value: unknown,
  path = '',
  depth = 0,
  found: (text: string, path: string) => boolean = containsSecret,
): string[] {
  if (typeof value === 'string')
    return found(value, path) || (path.endsWith('Env') && looksLikeSecret(value)) ? [path || '(root)'] : [];
  if (depth > 64 || value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => secretPaths(v, path ? `${path}.${k}` : k, depth + 1, found));
}

/**
 * Free text (a name, a description) with every word that looks like a key of no known format
 * (see looksRandom) replaced: for a copy that is only read by people, where a hash or an odd
 * id redacted by mistake costs nothing.
 */
export const scrubRandomWords = (text: string): string =>
  scrubSecrets(text).replace(RANDOM_WORDS, randomAway);
