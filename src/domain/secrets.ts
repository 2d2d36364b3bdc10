/**
 * Looks like a secret rather than a variable name: a known key prefix, or a long token with
 * lowercase letters (variable names are conventionally upper case, so
 * `ACME_PRODUCTION_OPENAI_API_KEY_V2` is a name, not a key).
 */
const KEY_PREFIX = /^(sk-|sk_|pk-|xai-|AIza|ghp_|gsk_|hf_)/;
const LONG_TOKEN = /^(?=.*[a-z])[A-Za-z0-9+/_=-]{32,}$/;

export const looksLikeSecret = (value: string): boolean => KEY_PREFIX.test(value) || LONG_TOKEN.test(value);

/** Well-known key and token formats, found anywhere inside a text. */
const EMBEDDED = [
  /\bsk-(?:proj-|live-|ant-)?[A-Za-z0-9_-]{16,}/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\bAIza[0-9A-Za-z_-]{30,}/,
  /\b(?:xai|gsk|hf)[-_][A-Za-z0-9]{20,}/,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/,
];

/** True when a free text (instructions, prompts, descriptions) carries a key or token. */
export const containsSecret = (text: string): boolean => EMBEDDED.some((re) => re.test(text));

export const SECRET_IN_TEXT =
  'contains what looks like an API key or token: keep secrets in environment variables (name one in model.apiKeyEnv), never in configuration';
