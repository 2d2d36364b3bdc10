/**
 * Every error code and how it is classified, in one table: `retryable`, whether a call that
 * failed with it may succeed if tried again (the default of `TroupeError.retryable`), and
 * `answer`, whether it is a working service's answer (it validated, found nothing, saw a
 * conflict: says nothing about its health, so a circuit breaker counts it as a success).
 */
const CLASSES = {
  VALIDATION_FAILED: { retryable: false, answer: true },
  NOT_FOUND: { retryable: false, answer: true },
  ALREADY_EXISTS: { retryable: false, answer: true },
  REFERENCE_IN_USE: { retryable: false, answer: true },
  IMMUTABLE_ROLE: { retryable: false, answer: true },
  CONCURRENT_MODIFICATION: { retryable: true, answer: true },
  TIMEOUT: { retryable: true, answer: false },
  CIRCUIT_OPEN: { retryable: false, answer: false },
  BULKHEAD_FULL: { retryable: true, answer: false },
  TRANSIENT: { retryable: true, answer: false },
  PERMANENT: { retryable: false, answer: false },
  CANCELLED: { retryable: false, answer: true },
  WORKFLOW_FAILED: { retryable: false, answer: false },
  NOT_A_TROUPE_DIRECTORY: { retryable: false, answer: false },
  LOCK_FAILED: { retryable: true, answer: false },
  IO_ERROR: { retryable: false, answer: false },
  USAGE: { retryable: false, answer: false },
} as const satisfies Record<string, { retryable: boolean; answer: boolean }>;

/**
 * Stable error codes: the CLI, the run log and callers switch on these, never on messages.
 *
 * @example
 * ```ts
 * // A code read back from a run log is a string: check it before treating it as an ErrorCode.
 * const code = result.error?.code;
 * if (code !== undefined && (ERROR_CODES as readonly string[]).includes(code)) report(code as ErrorCode);
 * ```
 */
export const ERROR_CODES = Object.keys(CLASSES) as ReadonlyArray<keyof typeof CLASSES>;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorContext = Record<string, unknown>;

/** One field-level problem: where (file, entity, dotted path) and what. */
export interface Issue {
  file?: string;
  entity?: string;
  path: string;
  message: string;
}

const MARKER = Symbol.for('troupe.error');

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((c) => CLASSES[c].retryable));

/** A working service's answer rather than a sign of trouble (see CLASSES); unknown codes are trouble. */
export const isAnswer = (code: string): boolean =>
  (CLASSES as Record<string, { answer: boolean }>)[code]?.answer === true;

export interface TroupeErrorOptions {
  cause?: unknown;
  context?: ErrorContext;
  retryable?: boolean;
  issues?: Issue[];
}

/**
 * The one error type Troupe throws; `code` is stable, `context` is structured, `cause` chains.
 *
 * @example
 * ```ts
 * try {
 *   await config.deletePersonality('calm');
 * } catch (e) {
 *   if (isTroupeError(e) && e.code === 'REFERENCE_IN_USE') console.error(formatIssues(e.issues));
 *   else throw e;
 * }
 * ```
 */
export class TroupeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly issues: Issue[];
  readonly [MARKER] = true;

  constructor(code: ErrorCode, message: string, opts: TroupeErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TroupeError';
    this.code = code;
    this.retryable = opts.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.context = opts.context ?? {};
    this.issues = opts.issues ?? [];
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/**
 * Whether a thrown value is a TroupeError. A marker check rather than instanceof, so two copies of
 * the package still agree.
 *
 * @example
 * ```ts
 * try {
 *   await config.deleteRole('developer');
 * } catch (e) {
 *   if (!isTroupeError(e)) throw e;
 *   console.error(e.code, e.message); // IMMUTABLE_ROLE: a predefined role cannot be deleted
 * }
 * ```
 */
export const isTroupeError = (e: unknown): e is TroupeError =>
  typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[MARKER] === true;

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  retryable: boolean;
  context?: ErrorContext;
  issues?: Issue[];
  cause?: SerializedError;
}

/** A plain-data form of any thrown value, cause chain included (bounded depth). */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (isTroupeError(e)) {
    const out: SerializedError = { name: e.name, code: e.code, message: e.message, retryable: e.retryable };
    if (Object.keys(e.context).length > 0) out.context = e.context;
    if (e.issues.length > 0) out.issues = e.issues;
    if (e.cause !== undefined && depth < 8) out.cause = serializeError(e.cause, depth + 1);
    return out;
  }
  if (e instanceof Error) {
    const out: SerializedError = { name: e.name, code: 'PERMANENT', message: e.message, retryable: false };
    if (e.cause !== undefined && depth < 8) out.cause = serializeError(e.cause, depth + 1);
    return out;
  }
  return { name: 'Error', code: 'PERMANENT', message: String(e), retryable: false };
}

/** Messages of an error and its causes, outermost first. */
export function causeChain(e: unknown): string[] {
  return causes(e).map((c) => (c instanceof Error ? c.message : String(c)));
}

/** The error and the errors it wraps, outermost first (at most 10 deep). */
export function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  for (let i = 0; cur !== undefined && i < 10; i++) {
    out.push(cur);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}

export const validationError = (message: string, issues: Issue[], context: ErrorContext = {}) =>
  new TroupeError('VALIDATION_FAILED', message, { issues, context });

export const notFound = (kind: string, id: string, suggestions: string[] = []) =>
  new TroupeError(
    'NOT_FOUND',
    `${kind} "${id}" not found${suggestions.length ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : ''}`,
    { context: { kind, id, suggestions } },
  );

/**
 * A compare-and-swap mismatch. Retryable when raised at commit (a lost race: planning again on
 * fresh state may succeed); `retryable: false` when it is the caller's expected revision that
 * no longer holds, which no re-plan can change.
 */
export const concurrentModification = (
  kind: string,
  id: string,
  expected: number,
  actual: number,
  opts: { retryable?: boolean } = {},
) =>
  new TroupeError(
    'CONCURRENT_MODIFICATION',
    `${kind} "${id}" was modified concurrently: expected revision ${expected}, found ${actual}`,
    { context: { kind, id, expectedRevision: expected, actualRevision: actual }, ...opts },
  );

/** CANCELLED: the caller's signal aborted (Ctrl-C, a timeout); nothing more was done after it. */
export function cancelledError(signal: AbortSignal): TroupeError {
  const why =
    signal.reason instanceof Error && signal.reason.name !== 'AbortError' ? `: ${signal.reason.message}` : '';
  return new TroupeError('CANCELLED', `cancelled${why}`, { cause: signal.reason });
}

/** Throws CANCELLED when the signal has aborted: checked before each thing that cannot be taken back. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError(signal);
}
