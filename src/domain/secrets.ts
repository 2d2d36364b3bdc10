/**
 * Looks like a secret rather than a variable name: a known key prefix, or a long token with
 * lowercase letters (variable names are conventionally upper case, so
 * `ACME_PRODUCTION_OPENAI_API_KEY_V2` is a name, not a key).
 */
const KEY_PREFIX = /^(sk-|sk_|pk-|xai-|AIza|ghp_|gsk_|hf_)/;
const LONG_TOKEN = /^(?=.*[a-z])[A-Za-z0-9+/_=-]{32,}$/;

export const looksLikeSecret = (value: string): boolean => KEY_PREFIX.test(value) || LONG_TOKEN.test(value);
