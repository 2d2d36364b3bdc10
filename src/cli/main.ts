import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { scrubSecrets } from '../domain/secrets.js';
import { printable } from '../domain/text.js';
import { crashPoint } from '../platform/crash-points.js';
import { CliContext, DEFAULT_DIR, type Register } from './context.js';
import { type CliIo, reportError, reportWarnings } from './output.js';

/**
 * Every command file, in help order, with the top-level words it registers; adding a command
 * is one line here. A run loads only the file its command word names (start-up is mostly
 * module loading); help, completion and anything unrecognised load them all.
 */
const COMMANDS: Array<{ words: string[]; load: () => Promise<{ register: Register }> }> = [
  { words: ['init'], load: () => import('./commands/init.js') },
  { words: ['personality'], load: () => import('./commands/personality.js') },
  { words: ['role'], load: () => import('./commands/role.js') },
  { words: ['agent'], load: () => import('./commands/agent.js') },
  { words: ['models'], load: () => import('./commands/models.js') },
  { words: ['validate'], load: () => import('./commands/validate.js') },
  { words: ['reconcile'], load: () => import('./commands/reconcile.js') },
  { words: ['export'], load: () => import('./commands/export.js') },
  { words: ['import'], load: () => import('./commands/import.js') },
  { words: ['apply', 'diff'], load: () => import('./commands/apply.js') },
  { words: ['workflow'], load: () => import('./commands/workflow.js') },
  { words: ['watch'], load: () => import('./commands/watch.js') },
  { words: ['serve'], load: () => import('./commands/serve.js') },
  { words: ['migrate'], load: () => import('./commands/migrate.js') },
  { words: ['schema'], load: () => import('./commands/schema.js') },
  { words: ['edit'], load: () => import('./commands/edit.js') },
  { words: [], load: () => import('./commands/completion.js') },
];

/** Global options that take a value: the word after them is not the command. */
const VALUED_GLOBALS = new Set(['--dir', '--store']);

/** The command files a run of `argv` needs: the one its command word names, else all of them. */
export function commandsFor(argv: string[]): typeof COMMANDS {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (VALUED_GLOBALS.has(a)) i++;
    else if (a === '-V' || a === '--version') return [];
    else if (!a.startsWith('-')) {
      const one = COMMANDS.find((c) => c.words.includes(a));
      return one ? [one] : COMMANDS;
    }
  }
  return COMMANDS;
}

export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const HELP_FOOTER = `
Configuration directory:
  --dir DIR, else $TROUPE_HOME, else the nearest ${DEFAULT_DIR}/ or troupe directory found
  searching upward from the working directory (like git). Create one with \`troupe init\`.

Output:
  Add --json to any command for machine-readable output on stdout; errors are then
  printed as JSON ({ "error": { code, message, issues, ... } }) on stderr, with the command's
  warnings beside it ({ "warnings": [...] } on its own after a success).

Exit codes:
  0 ok, 1 failed operation or invalid input/configuration, 2 usage error.`;

/** The `troupe` program, wired to the given io; nothing in it calls process.exit. */
export async function createProgram(ctx: CliContext, commands = COMMANDS): Promise<Command> {
  const { io } = ctx;
  const width = io.isTTY ? Math.max(60, Math.min(process.stdout.columns || 100, 120)) : 100;
  const program = new Command('troupe')
    .description(
      'Keep the configuration of a cast of AI agents (personalities, roles, agents) valid, consistent and safe on disk.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .option('--dir <dir>', `configuration directory (default: $TROUPE_HOME, else ${DEFAULT_DIR})`)
    .option(
      '--store <url>',
      'where the configuration lives: a directory (or file:PATH), pglite:PATH, or postgres://… (default: $TROUPE_STORE, else --dir)',
    )
    .option('--json', 'machine-readable output on stdout, errors as JSON on stderr')
    .exitOverride()
    .configureOutput({
      // With --json, the help or version asked for is kept to be printed as JSON (see main).
      writeOut: ctx.json ? (s) => ctx.asked.push(s) : io.stdout,
      // With --json, the help a command group prints when no command follows is replaced by a
      // JSON usage error (see reportError): stderr then holds JSON only.
      writeErr: ctx.json ? () => {} : io.stderr,
      // Errors are printed by reportError, which knows about --json.
      outputError: () => {},
      getOutHelpWidth: () => width,
      getErrHelpWidth: () => width,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .addHelpText('after', HELP_FOOTER);
  for (const { load } of commands) (await load()).register(program, ctx);
  return program;
}

/** `--json` anywhere before a `--`: decides how errors found while parsing are printed. */
const wantsJson = (argv: string[]) => {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
};

/**
 * Runs the troupe CLI on `argv` (without the node and script paths) and returns the exit
 * code: 0 ok, 1 failed operation or invalid input/config, 2 usage error.
 */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? ((s: string) => void process.stdout.write(s));
  const stderr = io.stderr ?? ((s: string) => void process.stderr.write(s));
  // Everything the CLI prints passes the secret detector: an error quoting a pasted key, say.
  const full: CliIo = {
    stdout: (s) => {
      // What a command prints is what it acknowledges: a power loss from here on must keep it.
      crashPoint('cli:stdout');
      stdout(scrubSecrets(s));
    },
    stderr: (s) => stderr(scrubSecrets(s)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    isTTY: io.isTTY ?? process.stdout.isTTY === true,
    ...((io.rows ?? process.stdout.rows) ? { rows: io.rows ?? process.stdout.rows } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const ctx = new CliContext(full, { json: wantsJson(argv) });
  const restoreWarnings = io.ownWarnings ? printWarningsVia((m) => ctx.warn(m)) : undefined;
  try {
    const program = await createProgram(ctx, argv.length === 0 ? COMMANDS : commandsFor(argv));
    if (argv.length === 0) {
      // A bare `troupe` asks what there is: the help, on stdout, and success.
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    reportWarnings(full, ctx.warnings);
    return ctx.exitCode;
  } catch (e) {
    if (ctx.json && e instanceof CommanderError && ctx.asked.length) printAsked(full, e, ctx.asked.join(''));
    return reportError(e, full, wantsJson(argv), ctx.warnings);
  } finally {
    restoreWarnings?.();
  }
}

/** The help or version `--json` asked for, as JSON on stdout: `{ version }` or `{ help }`. */
function printAsked(io: CliIo, e: CommanderError, text: string): void {
  const value = e.code === 'commander.version' ? { version: text.trim() } : { help: text };
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Process warnings as the command's own, one line each (Node's own printer is set aside until restored). */
function printWarningsVia(warn: (message: string) => void): () => void {
  const before = process.listeners('warning');
  process.removeAllListeners('warning');
  const print = (w: Error) => warn(printable(w.message.split('\n')[0] ?? ''));
  process.on('warning', print);
  return () => {
    process.off('warning', print);
    for (const l of before) process.on('warning', l);
  };
}
