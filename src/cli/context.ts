import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import type { Services } from '../configuration/services.js';
import { isTroupeError, TroupeError } from '../domain/errors.js';
import type { PersonalityInput } from '../domain/personality.js';
import type { RunResult } from '../orchestration/events.js';
import type { FileRunLog } from '../orchestration/file-run-log.js';
import type { RunLog } from '../orchestration/run-log.js';
import type { Store } from '../storage/store.js';
import { assertNotAFile, DEFAULT_DIR, type Located, locateDir, notFound } from './directory.js';
import { type CliIo, Output, reportWarnings, type Warning } from './output.js';
import { describeTarget, parseStoreTarget, type StoreTarget } from './store-target.js';

export { DEFAULT_DIR };

/** Where workflow run logs live, relative to the config directory. */
export const RUNS_DIR = '.troupe/runs';

/** `recovered run <id> (<workflow>): compensated`, and what went wrong if it did not end compensated. */
export function recoveredLine(r: RunResult): string {
  const failed = r.compensationFailures.map((f) => `${f.stepId}: ${f.error.message}`).join('; ');
  const why = failed
    ? ` (compensation failed: ${failed})`
    : r.status !== 'compensated' && r.error
      ? ` (${r.error.message})`
      : '';
  return `recovered run ${r.runId} (${r.workflowId}): ${r.status}${why}`;
}

/** What each file in commands/ exports: adds its command(s) to the program. */
export type Register = (program: Command, ctx: CliContext) => void;

export interface GlobalOptions {
  dir?: string;
  store?: string;
  json?: boolean;
}

/** What every command needs: the io, the global options, and a way to open the directory. */
export class CliContext {
  /** Set by a command that completed but found problems (validate, reconcile): exit 1 without an error. */
  exitCode = 0;

  /** `json`: the command line asks for `--json` (known before it is parsed: help and usage errors follow it). */
  readonly json: boolean;

  /** Under --json, what commander printed on stdout (help, the version), to print as JSON. */
  readonly asked: string[] = [];

  /** Under --json, the command's warnings, printed as JSON once it ends (see reportWarnings). */
  readonly warnings: Warning[] = [];

  /**
   * A warning of the command: a `warning: …` line on stderr, or under --json kept to be
   * printed as JSON with the command's result or error, so stderr holds JSON only.
   */
  warn(message: string): void {
    if (this.json) this.warnings.push({ message });
    else this.io.stderr(`warning: ${message}\n`);
  }

  /**
   * A notice of a command that runs until stopped (`watch` is ready, `serve` is stopping): a
   * line on stderr, or under --json a line `{ "notice": … }`, after a line of the warnings so
   * far, printed now rather than when the command ends.
   */
  notice(message: string): void {
    if (!this.json) {
      this.io.stderr(`${message}\n`);
      return;
    }
    reportWarnings(this.io, this.warnings.splice(0), { line: true });
    this.io.stderr(`${JSON.stringify({ notice: message })}\n`);
  }

  constructor(
    readonly io: CliIo,
    opts: { json?: boolean } = {},
  ) {
    this.json = opts.json === true;
  }

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  output(cmd: Command): Output {
    return new Output(this.io, this.globals(cmd).json === true);
  }

  /**
   * Where a document is, for a message: its file (`personalities/calm.json`) in a directory;
   * on a database, which has no files, the document and its store.
   */
  placeOf(cmd: Command, kind: string, id: string): string {
    const target = this.storeTarget(cmd);
    return target && target.engine !== 'file'
      ? `${kind}/${id} in ${describeTarget(target)}`
      : `${kind}/${id}.json`;
  }

  /**
   * The store `--store` (else `$TROUPE_STORE`) names, or undefined for the file store found
   * as `located` finds it. `--store` with `--dir` is a usage error unless they agree.
   */
  storeTarget(cmd: Command): StoreTarget | undefined {
    const g = this.globals(cmd);
    const text = g.store ?? (this.io.env.TROUPE_STORE || undefined);
    if (text === undefined) return undefined;
    const target = parseStoreTarget(text, this.io.cwd);
    if (g.dir !== undefined && (target.engine !== 'file' || target.dir !== this.path(g.dir)))
      throw new TroupeError(
        'USAGE',
        `--dir ${g.dir} and ${g.store ? '--store' : '$TROUPE_STORE'} ${describeTarget(target)} name two stores: give one`,
      );
    return target;
  }

  /** --dir, else $TROUPE_HOME, else searched upward from the working directory (see locateDir). */
  located(cmd: Command): Located {
    return locateDir(this.io.cwd, this.globals(cmd).dir, this.io.env.TROUPE_HOME || undefined);
  }

  dir(cmd: Command): string {
    return this.located(cmd).dir;
  }

  /** A path the user gave, resolved against the working directory. */
  path(p: string): string {
    return resolve(this.io.cwd, p);
  }

  /** A path as a person wants to read it: relative when under the working directory, else absolute. */
  display(p: string): string {
    const rel = relative(this.io.cwd, p);
    return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? p : rel;
  }

  /**
   * Opens the config directory (it must be initialised), runs fn, closes everything whatever
   * happens. Workflow runs are recorded durably in `.troupe/runs/`, one JSON-lines file per run.
   * Before fn, runs a crashed process left half-done are compensated (runs whose owner process
   * is alive are left alone), with one line per recovered run on stderr; `recover: false`
   * skips that (for `troupe workflow recover`, which reports it itself).
   */
  async withConfig<T>(
    cmd: Command,
    fn: (config: ConfigurationService, store: Store) => Promise<T>,
    opts: {
      recover?: boolean;
      strays?: boolean;
      target?: StoreTarget;
      create?: boolean;
      /** False: Ctrl-C does not cancel the service's calls (a server shuts down gracefully instead). */
      interruptible?: boolean;
    } = {},
  ): Promise<T> {
    const { store, runLog } = await this.#open(cmd, opts.target, opts.create === true);
    let failed = false;
    try {
      // Loaded here, not at start-up: a command that never opens the store never loads it.
      const { ConfigurationService } = await import('../configuration/configuration-service.js');
      const signal = opts.interruptible === false ? undefined : this.io.signal;
      const config = new ConfigurationService(store, { runLog, ...(signal ? { signal } : {}) });
      if (opts.recover !== false) await this.#recover(config, runLog);
      if (opts.strays !== false && store.strays)
        for (const { file, why } of await store.strays()) this.warn(`${file}: ignored: ${why}`);
      return await fn(config, store);
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      const close = async () => {
        await runLog.close?.();
        await store.close();
      };
      // After a failure, the command's own error is the one to report, not one of closing.
      if (failed) await close().catch(() => undefined);
      else await close();
    }
  }

  /** The store `--store` names (a database brings its own run log), else the directory's. */
  async #open(
    cmd: Command,
    given?: StoreTarget,
    create = false,
  ): Promise<{ store: Store; runLog: RunLog & { close?(): Promise<void> } }> {
    const target = given ?? this.storeTarget(cmd);
    if (target && target.engine !== 'file') {
      const { PostgresStore } = await import('../postgres/store.js');
      // Every command but `init` (and `migrate --to` a database) opens an existing store: a
      // mistyped URL is never a new, empty one.
      const store =
        target.engine === 'postgres'
          ? await PostgresStore.connect(target.url, { create })
          : await PostgresStore.pglite(target.dir, { create });
      return { store, runLog: store.runLog() };
    }
    const where: Located = target ? { dir: target.dir, how: 'flag' } : this.located(cmd);
    assertNotAFile(where.dir, this.display(where.dir));
    const [{ FileRunLog }, { FileStore }] = await Promise.all([
      import('../orchestration/file-run-log.js'),
      import('../storage/file/index.js'),
    ]);
    // Named, the runs folder is the run log's for certain: a fenced run with nothing of it
    // there any more (taken over, ended, its log pruned) is refused, not taken for one kept elsewhere.
    const runsDir = join(resolve(where.dir), RUNS_DIR);
    const store = await FileStore.open(where.dir, { runsDir }).catch((e: unknown) => {
      throw where.how === 'default' && isTroupeError(e) && e.code === 'NOT_A_TROUPE_DIRECTORY'
        ? notFound(this.io.cwd)
        : e;
    });
    return { store, runLog: new FileRunLog(runsDir) };
  }

  /** Compensates interrupted runs; a run log that cannot be read is a warning, not a failed command. */
  async #recover(
    config: ConfigurationService,
    runLog: RunLog & { unreadable?: FileRunLog['unreadable'] },
  ): Promise<void> {
    let recovered: RunResult[];
    try {
      recovered = await config.recover();
    } catch (e) {
      this.warn(
        `could not check for interrupted workflow runs: ${e instanceof Error ? e.message : String(e)}`,
      );
      return;
    }
    for (const r of recovered)
      if (this.json) this.warnings.push({ message: recoveredLine(r) });
      else this.io.stderr(`${recoveredLine(r)}\n`);
    for (const u of runLog.unreadable ?? [])
      this.warn(`run log ${u.runId} is damaged and was skipped: ${u.error}`);
  }

  /** Services over an empty store: what ships with troupe (presets, predefined roles, the model catalog). */
  async shipped(): Promise<Services> {
    const [{ createServices }, { MemoryStore }] = await Promise.all([
      import('../configuration/services.js'),
      import('../storage/memory/index.js'),
    ]);
    return createServices(new MemoryStore());
  }

  async presets(): Promise<PersonalityInput[]> {
    return (await this.shipped()).personalities.presets();
  }

  /** Reads a JSON or YAML file the user wrote; errors name the file as the user typed it. */
  async readInput(file: string): Promise<unknown> {
    const [{ parseText }, { readTextBounded }] = await Promise.all([
      import('../services/file-service.js'),
      import('../services/input-file.js'),
    ]);
    return parseText(await readTextBounded(this.path(file), file), file);
  }

  /** Like readInput, but the file must hold one object (an entity, a patch, a bundle). */
  async readObject(file: string): Promise<Record<string, unknown>> {
    const value = await this.readInput(file);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
      throw new TroupeError('VALIDATION_FAILED', `${file}: must hold an object, got ${got}`, {
        issues: [{ file, path: '(root)', message: `must be an object, got ${got}` }],
      });
    }
    return value as Record<string, unknown>;
  }
}
