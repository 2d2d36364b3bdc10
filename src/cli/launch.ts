import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/**
 * How `bin/troupe.js` starts the CLI. Start-up is mostly compiling code, so the command runs
 * from one bundled file (dist/bin/troupe.cjs, see scripts/bundle-cli.mjs) compiled with V8's
 * code cache: the first run of each command word saves the compiled code, later runs skip the
 * compiling. Only this file imports nothing heavy; everything else is in the bundle.
 *
 * The cache lives in `$TROUPE_COMPILE_CACHE`, else `$XDG_CACHE_HOME/troupe`, else
 * `~/.cache/troupe`; `TROUPE_COMPILE_CACHE=off` turns it off. It is only a cache: one that
 * cannot be read, written or trusted (a directory not ours, or writable by others) is skipped,
 * and the command runs the same without it.
 */
export interface LaunchOptions {
  /** The bundled CLI; default dist/bin/troupe.cjs beside this file's folder. */
  bundle?: string;
  env?: NodeJS.ProcessEnv;
}

/** What the cached code depends on besides the source: V8 rejects a cache from another build. */
const RUNTIME = `${process.version}-${process.arch}`;

/** The command word (`personality`, `apply`…): each gets the compiled code its own run reached. */
export function commandWord(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--dir' || a === '--store') i++;
    else if (!a.startsWith('-')) return /^[a-z][a-z-]{0,30}$/.test(a) ? a : 'other';
  }
  return 'none';
}

/** The cache directory, created private, or undefined when it is off or cannot be trusted. */
export function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const set = env.TROUPE_COMPILE_CACHE;
  if (set === 'off' || set === '0') return undefined;
  const dir = set || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'troupe');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    // Code is run from here: a directory someone else owns or may write to is not used.
    const ours = process.getuid === undefined || st.uid === process.getuid();
    return st.isDirectory() && ours && (st.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

const readCache = (file: string): Buffer | undefined => {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
};

/** Written whole or not at all (a temp file renamed over), so a concurrent run never reads half. */
const writeCache = (file: string, data: Buffer): void => {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
};

/** Runs the troupe CLI on `argv` and returns its exit code (see main). */
export async function launch(argv: string[], opts: LaunchOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  // A command parses a few documents and exits: zod's compiled fast path costs more to build
  // than it saves here. zod reads this before it builds a schema (`z.config` sets the same).
  const g = globalThis as { __zod_globalConfig?: Record<string, unknown> };
  g.__zod_globalConfig = { ...g.__zod_globalConfig, jitless: true };

  const file = opts.bundle ?? fileURLToPath(new URL('../bin/troupe.cjs', import.meta.url));
  const source = readFileSync(file, 'utf8');
  const dir = cacheDir(env);
  const key = createHash('sha256').update(RUNTIME).update(source).digest('hex').slice(0, 20);
  const cacheFile = dir && join(dir, `${key}-${commandWord(argv)}.bin`);
  const cachedData = cacheFile ? readCache(cacheFile) : undefined;
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = {
    exports: {} as {
      main?: (argv: string[], io: { signal: AbortSignal; ownWarnings: true }) => Promise<number>;
    },
  };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  if (typeof module.exports.main !== 'function') throw new Error(`${file} is not the troupe CLI bundle`);
  // Ctrl-C stops a change that has not reached its commit point (it writes nothing, exit 130);
  // a second Ctrl-C quits at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new Error('interrupted (Ctrl-C) before the change was committed; nothing was written'));
  };
  process.on('SIGINT', onSigint);
  let code: number;
  try {
    code = await module.exports.main(argv, { signal: interrupt.signal, ownWarnings: true });
  } finally {
    process.off('SIGINT', onSigint);
  }
  // After the run, the cache holds the functions it compiled too, not only the top level.
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected))
    writeCache(cacheFile, script.createCachedData());
  return code;
}
