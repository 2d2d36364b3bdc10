import { CommanderError } from 'commander';
import { issueLine } from '../domain/common.js';
import {
  causes,
  isTroupeError,
  type SerializedError,
  serializeError,
  TroupeError,
} from '../domain/errors.js';
import { scrubMessage } from '../domain/secrets.js';
import { Redactor } from '../orchestration/redact.js';
import { type Kind, singular } from '../storage/store.js';

/** Where the CLI reads and writes; every field has a process default, tests pass their own. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  isTTY: boolean;
  /** The terminal's height in lines, when stdout is one (a longer output scrolls past unread). */
  rows?: number;
  /** Aborts the command (Ctrl-C): a change not yet at its commit point stops and writes nothing. */
  signal?: AbortSignal;
  /**
   * The process's own warnings (a library's, such as pg's about `sslmode`) are printed as the
   * CLI's: one scrubbed `warning: …` line on stderr, not Node's multi-line block. Set by the
   * `troupe` executable, which owns its process.
   */
  ownWarnings?: boolean;
}

/** 0 ok, 1 failed operation or invalid input/config, 2 usage error, 130 interrupted (Ctrl-C). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Commander codes that mean "printed what was asked for", not an error. */
const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.version']);

/** Human text or machine JSON on stdout, depending on `--json`. */
export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** One line of human text; skipped in --json mode so stdout stays parseable. */
  line(text = ''): void {
    if (!this.json) this.io.stdout(`${text}\n`);
  }

  lines(texts: string[]): void {
    for (const t of texts) this.line(t);
  }

  /** The machine-readable result; printed only in --json mode. */
  data(value: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Raw text on stdout in either mode (an exported bundle, a schema). */
  raw(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** The exit code an error maps to. */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof CommanderError) {
    if (COMMANDER_OK.has(e.code)) return EXIT.ok;
    if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return EXIT.usage;
  }
  if (isTroupeError(e) && e.code === 'USAGE') return EXIT.usage;
  if (cancelled(e)) return EXIT.interrupted;
  return EXIT.failed;
}

/** The error, or one it wraps (a run's failure wraps its step's), is CANCELLED. */
const cancelled = (e: unknown): boolean => causes(e).some((x) => isTroupeError(x) && x.code === 'CANCELLED');

const commanderMessage = (e: CommanderError) => e.message.replace(/^error:\s*/, '');

/** The JSON form of an error: serializeError, with commander's usage errors given code USAGE. */
export function errorJson(e: unknown): { error: SerializedError } {
  if (e instanceof CommanderError) {
    return {
      error: {
        name: 'UsageError',
        code: 'USAGE',
        message: commanderMessage(e),
        retryable: false,
        context: { reason: e.code },
      },
    };
  }
  return { error: serializeError(e) };
}

/** How a stored file broken by hand is mended: by hand, with `troupe edit`, or replaced by `troupe apply`. */
function repairHint(context: Record<string, unknown> | undefined): string | undefined {
  const kind = singular[context?.kind as Kind];
  if (context?.stored !== true || !kind || typeof context.id !== 'string') return undefined;
  const deletable =
    kind === 'personality' || kind === 'role' ? `, and \`troupe ${kind} delete\` deletes it` : '';
  return `(fix it by hand or with \`troupe edit ${kind} ${context.id}\`; \`troupe apply\` of a valid one replaces it${deletable})`;
}

/** `error: <message>` then one line per issue the message does not already say. */
export function errorText(e: unknown): string {
  if (e instanceof CommanderError) {
    return `error: ${commanderMessage(e)}\n(add --help to any command to see its usage)\n`;
  }
  const message = e instanceof Error ? e.message : String(e);
  const lines = [`error: ${message}`];
  if (isTroupeError(e)) {
    for (const i of e.issues) {
      if (!message.includes(i.message)) lines.push(`  ${issueLine(i)}`);
    }
    const repair = repairHint(e.context);
    if (repair) lines.push(repair);
  } else if (e instanceof Error && e.stack) {
    lines.push('  (unexpected error; please report it with the command you ran)');
  }
  return `${lines.join('\n')}\n`;
}

/** A warning of a command (a file it ignored, a run it recovered), as --json prints it. */
export interface Warning {
  message: string;
}

/**
 * Under --json, the warnings of a command that succeeded: one JSON object on stderr, so that
 * stderr holds JSON only (an error carries them in its own object instead; see reportError).
 * `line`: on one line, for a command whose stderr is a stream of JSON lines (watch, serve).
 */
export function reportWarnings(io: CliIo, warnings: readonly Warning[], opts: { line?: boolean } = {}): void {
  if (warnings.length)
    io.stderr(`${JSON.stringify(new Redactor().redact({ warnings }), null, opts.line ? undefined : 2)}\n`);
}

/** Prints an error the way the mode asks (JSON on stderr with --json) and returns its exit code. */
export function reportError(
  e: unknown,
  io: CliIo,
  json: boolean,
  /** Under --json, the command's warnings (see CliContext.warn), carried in the same object. */
  warnings: readonly Warning[] = [],
): ExitCode {
  const code = exitCodeOf(e);
  if (code === EXIT.ok) return code;
  if (e instanceof CommanderError && e.code === 'commander.help') {
    // A command group with no command after it: commander printed its help, unless under
    // --json, which gets a usage error it can parse instead.
    if (!json) return code;
    e = new TroupeError('USAGE', 'a command is needed here: see --help for the ones there are');
  }
  io.stderr(
    json
      ? `${JSON.stringify(new Redactor().redact({ ...errorJson(e), ...(warnings.length ? { warnings } : {}) }), null, 2)}\n`
      : scrubMessage(errorText(e)),
  );
  if (!json && io.env.TROUPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return code;
}
