import type transliterateFn from '@sindresorhus/transliterate';
import { z } from 'zod';
import { type Issue, validationError } from './errors.js';
import { lazyDefault } from './lazy.js';
import { containsSecret, SECRET_IN_TEXT, scrubMessage, scrubRandomWords, scrubSecrets } from './secrets.js';
import { article, printable } from './text.js';

/** Lowercase slug: safe as a file name on every platform, no separators, no traversal. */
export const ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const EntityId = z
  .string()
  .min(1)
  .max(64)
  .regex(ID_PATTERN, 'must be a lowercase slug: a-z, 0-9 and single dashes, e.g. "calm-analyst"')
  // Ids become file names: a name Windows reserves for a device would make the directory unusable there.
  .refine((v) => !RESERVED_NAMES.test(v), {
    message:
      'is a name Windows reserves for a device (con, prn, aux, nul, com1–9, lpt1–9): choose another id',
  });
const RESERVED_NAMES = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/;
export type EntityId = z.infer<typeof EntityId>;

/** Kept by the store, never written by hand. */
/**
 * The highest revision a document may reach: what every store can hold (PostgreSQL keeps it
 * as an int). A file edited by hand to more is refused, and so is a commit past it.
 */
export const MAX_REVISION = 2_147_483_647;

export const Meta = z.object({
  /** 0: a file written by hand without the store's metadata, not yet adopted (see reconcile). */
  revision: z.number().int().min(0).max(MAX_REVISION),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /**
   * The commit that wrote this version (its write identity): an undo applies only to a version
   * its own commit wrote, so an identical write by anyone else is never taken for its own.
   */
  commit: z.string().min(1).max(64).optional(),
});
export type Meta = z.infer<typeof Meta>;
export const META_KEYS = ['revision', 'createdAt', 'updatedAt', 'commit'] as const;

const transliterate = lazyDefault<typeof transliterateFn>('@sindresorhus/transliterate');

/** The id a name gets when none is given: "Calm Analyst!" → "calm-analyst". */
export function slugify(name: string): string {
  // Letters of other scripts written the way their readers spell them in Latin (ß → ss, Æ → ae,
  // Привет → privet); a script with no such spelling (日本語) leaves nothing, and the caller
  // asks for an id.
  return (/^[\x20-\x7e]*$/.test(name) ? name : transliterate()(name))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
}

/** Throws VALIDATION_FAILED naming the file, entity and field of each problem. */
export function assertValidId(id: unknown, kind: string, file?: string): asserts id is string {
  const r = EntityId.safeParse(id);
  if (!r.success) {
    const shown = typeof id === 'string' ? JSON.stringify(id) : String(id);
    const issue: Issue = {
      path: 'id',
      message: `${r.error.issues[0]?.message ?? 'invalid id'}, got ${shown}`,
    };
    if (file) issue.file = file;
    throw validationError(`${file ? `${file}: ` : ''}${kind} id ${issue.message}`, [issue], { kind, id });
  }
}

/** zod issues → our issues, with a dotted path and the offending value where useful. */
/** What a missing field is for, said where it is missing (the last part of its path). */
const FIELD_HINTS: Record<string, string> = {
  model: 'the model settings, e.g. {"provider": "openai", "modelId": "gpt-4o"}',
  personalityId: 'the id of the personality the agent uses, e.g. "calm-analyst"',
  roleId: 'the id of the role the agent plays, e.g. "code-reviewer"',
  provider: 'the model provider, e.g. "openai" or "anthropic"',
  modelId: 'the provider\'s model id, e.g. "gpt-4o"',
  name: 'a display name',
  systemPrompt: 'the instructions the role gives the model',
  bigFive: 'the Big Five traits, e.g. {"openness": 70}',
};

const kindOf = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : article(typeof v);

/** zod's wording ("Invalid input: expected object, received undefined") as a person would say it. */
function plainMessage(i: z.core.$ZodIssue, fallback: string, input: unknown): string {
  if (i.code === 'invalid_type' && !/^Invalid input/.test(i.message)) return fallback; // a message of ours
  if (i.code === 'invalid_type') {
    const expected = article(String(i.expected));
    const at = lookup(input, i.path);
    if (!at.found || at.value === undefined) {
      const hint = FIELD_HINTS[String(i.path[i.path.length - 1])];
      return `is required: ${hint ?? expected}`;
    }
    return `must be ${expected}, got ${kindOf(at.value)}`;
  }
  if (i.code === 'invalid_value' && /^Invalid (option|input)/.test(i.message))
    return `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}${got(lookup(input, i.path))}`;
  if (i.code === 'too_small' && /^Too small/.test(i.message))
    return i.origin === 'string' && Number(i.minimum) === 1
      ? 'must not be empty'
      : fallback.replace(/^Too small: expected /, 'must be ');
  if (i.code === 'too_big' && /^Too big/.test(i.message))
    return fallback.replace(/^Too big: expected /, 'must be ');
  return fallback;
}

/** The value at a path of what was parsed (zod's issues do not carry it). */
function lookup(input: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let v = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return { found: false };
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return { found: true, value: v };
}

const got = (at: { found: boolean; value?: unknown }) =>
  !at.found || at.value === undefined
    ? ' (it is missing)'
    : `, got ${scrubSecrets(JSON.stringify(at.value) ?? String(at.value))}`;

/**
 * The entity an input names (its id or name, as given), as an error may show it: printable, and
 * with any word that looks like a key redacted (a token given as the id is refused, not echoed).
 */
const shownEntity = (entity: unknown): string | undefined =>
  entity === undefined || entity === null ? undefined : scrubRandomWords(printable(String(entity)));

/** zod issues as ours; `input` (what was parsed) lets a message say what was given. */
export function toIssues(
  error: z.ZodError,
  where: { file?: string | undefined; entity?: string | undefined } = {},
  input?: unknown,
): Issue[] {
  const seen = new Set<string>();
  const entity = shownEntity(where.entity);
  return error.issues.flatMap((i) => {
    // Keys come from the input as they are: printed, never a terminal escape or direction override.
    const path = printable(i.path.map(String).join('.')) || '(root)';
    // A message may quote the value it refuses: never a key pasted there.
    let message = i.message;
    if (i.code === 'unrecognized_keys')
      message = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${printable(k)}"`).join(', ')}`;
    else if (i.code === 'invalid_key')
      // zod says only "Invalid key in record": what is wrong with the key is in its own issues.
      message = `the key ${i.issues.map((k) => plainMessage(k, scrubSecrets(k.message), undefined)).join('; ')}`;
    else message = plainMessage(i, message, input);
    const issue: Issue = { path, message: scrubMessage(message) };
    if (where.file) issue.file = where.file;
    if (entity) issue.entity = entity;
    // Two checks of one field can fail with the same words (an integer past 2^53 is neither
    // safe nor under the maximum): said once.
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [issue];
  });
}

/**
 * One line per issue: `personalities/calm.json: bigFive.openness: must be ...`. `join` and
 * `indent` shape the lines; `where: false` leaves out the file or entity.
 *
 * @example
 * ```ts
 * try {
 *   await config.applyBundle(bundle, { file: 'cast.json' });
 * } catch (e) {
 *   if (isTroupeError(e)) console.error(formatIssues(e.issues, { indent: '  ' }));
 * }
 * ```
 */
export function formatIssues(
  issues: readonly Issue[],
  opts: { join?: string; indent?: string; where?: boolean } = {},
): string {
  return issues
    .map((i) => `${opts.indent ?? ''}${issueLine(i, opts.where !== false)}`)
    .join(opts.join ?? '\n');
}

/** One issue as a line: `file: path: message` (or `entity: …`); `where: false` leaves out the file or entity. */
export const issueLine = (i: Issue, where = true): string =>
  `${where && i.file ? `${i.file}: ` : ''}${where && i.entity && !i.file ? `${i.entity}: ` : ''}${i.path}: ${i.message}`;

/** Parse with a schema or throw VALIDATION_FAILED whose message lists every issue. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: { kind: string; file?: string | undefined; entity?: string | undefined },
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = toIssues(r.error, where, value);
  const entity = shownEntity(where.entity);
  const head = `invalid ${where.kind}${entity ? ` "${entity}"` : ''}${where.file ? ` in ${where.file}` : ''}`;
  throw validationError(`${head}:\n${formatIssues(issues)}`, issues, {
    kind: where.kind,
    entity,
    file: where.file,
  });
}

/** An integer 0–100 with a message that names the rule. */
export const Score = z
  .number({
    error: (i) =>
      i.input === undefined ? 'is required' : `must be an integer 0–100, got ${JSON.stringify(i.input)}`,
  })
  .int({ error: (i) => `must be an integer 0–100, got ${JSON.stringify(i.input)}` })
  .min(0, { error: (i) => `must be an integer 0–100, got ${JSON.stringify(i.input)}` })
  .max(100, { error: (i) => `must be an integer 0–100, got ${JSON.stringify(i.input)}` });

/** A number in [min, max] whose errors say the range and what was given. */
export function between(min: number, max: number, opts: { int?: boolean } = {}) {
  const what = `must be ${opts.int ? 'an integer' : 'a number'} ${min}–${max}`;
  const msg = (i: { input: unknown }) =>
    i.input === undefined ? 'is required' : `${what}, got ${JSON.stringify(i.input)}`;
  const n = z.number({ error: msg });
  return (opts.int ? n.int({ error: msg }) : n).min(min, { error: msg }).max(max, { error: msg });
}

/** Free text a person writes (a prompt, instructions, a description): bounded, and never a secret. */
export const FreeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !containsSecret(v), { message: SECRET_IN_TEXT });
