/**
 * Characters no configuration value should carry: C0 and C1 control characters (but tab and
 * line breaks in free text), and the bidirectional overrides that make text read differently
 * from how it is stored ("Trojan Source"). Printed raw, they rewrite a terminal.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what it finds
const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** Half of a UTF-16 pair with no other half (`"\ud800"` in JSON): no character at all. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first unsafe character of a text, as "U+001B", or undefined. */
export function unsafeCharacter(text: string, opts: { oneLine?: boolean } = {}): string | undefined {
  const m =
    UNSAFE.exec(text) ?? LONE_SURROGATE.exec(text) ?? (opts.oneLine ? LINE_BREAKING.exec(text) : null);
  return m ? codeOf(m[0]) : undefined;
}

/** What a message calls the character unsafeCharacter found. */
export const unsafeCharacterName = (code: string): string =>
  /^U\+D[89A-F]/.test(code)
    ? `a lone surrogate ${code} (half of a character: the text is not valid Unicode)`
    : `the control or direction-override character ${code}`;

/** Fine in free text, not in a one-line name: a tab, a line break, a direction mark. */
const LINE_BREAKING = /[\t\r\n\u2028\u2029\u200e\u200f\u061c]/;

const codeOf = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** One line of `text` safe to print: each character `unsafeCharacter(…, { oneLine })` names shown as its code, `\u{1B}`. */
export const printable = (text: string): string =>
  text.replace(
    new RegExp(`${UNSAFE.source}|${LONE_SURROGATE.source}|${LINE_BREAKING.source}`, 'g'),
    (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`,
  );

/** Keys that would reach an object's prototype when a patch or bundle is merged. */
export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** How deep a file or patch may nest before it is refused (a real configuration needs about 5). */
export const MAX_DEPTH = 32;

/**
 * Whether `value` nests deeper than `max` levels, found without recursion (so a value nested
 * ten thousand levels deep, which would overflow the stack of a recursive walk or of
 * JSON.stringify, is answered too).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, depth] = next;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push([item, depth + 1]);
  }
  return false;
}

/**
 * Where `value` nests deeper than `max`: the dotted path to the first value past it (its first
 * segments, then "…"), or undefined when it does not.
 */
export function deepPath(value: unknown, max: number): string | undefined {
  const stack: Array<[unknown, string[]]> = [[value, []]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, path] = next;
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= max) return `${path.slice(0, 6).join('.')}…`;
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, item] of entries) stack.push([item, [...path, k]]);
  }
  return undefined;
}

export interface ValueProblem {
  path: string;
  message: string;
}

/**
 * Walks parsed input and reports what no entity may hold: prototype keys, numbers JSON cannot
 * carry (1e400 is Infinity), unsafe characters in strings and keys, nesting deeper than MAX_DEPTH.
 */
export function valueProblems(value: unknown, path = '', depth = 0): ValueProblem[] {
  const at = path || '(root)';
  if (typeof value === 'string') {
    const c = unsafeCharacter(value);
    return c ? [{ path: at, message: `contains ${unsafeCharacterName(c)}` }] : [];
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    return [{ path: at, message: 'is a number too large to represent' }];
  if (value === null || typeof value !== 'object') return [];
  if (depth >= MAX_DEPTH) return [{ path: at, message: `is nested more than ${MAX_DEPTH} levels deep` }];
  const out: ValueProblem[] = [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const p = path ? `${path}.${k}` : k;
    if (!Array.isArray(value) && FORBIDDEN_KEYS.has(k))
      out.push({ path: p, message: `"${k}" is not allowed as a key` });
    else if (!Array.isArray(value) && unsafeCharacter(k))
      out.push({ path: at, message: `has a key with the character ${unsafeCharacter(k)}` });
    else out.push(...valueProblems(v, p, depth + 1));
  }
  return out;
}

/** "a" or "an" before a word, by how it is written ("an openai model", "a string"). */
export const article = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
