import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TroupeError } from '../../domain/errors.js';
import { FileStore } from '../../storage/file/index.js';
import type { CliContext } from '../context.js';
import { assertNotAFile, DEFAULT_DIR, enclosingTroupeDir, isTroupeDir } from '../directory.js';
import { writeSchemas } from '../schemas.js';
import { describeTarget } from '../store-target.js';

/** What a directory holds (a missing one holds nothing). */
const entries = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** The entries of a troupe directory, as init creates them. */
const LAYOUT = new Set(['.troupe', 'personalities', 'roles', 'agents', 'models', 'resolved']);

/** A shell word for a path: quoted when it holds anything a shell would split or expand. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

export function register(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description(
      'create the configuration directory (personalities/, roles/, agents/, models/, resolved/, .troupe/)',
    )
    .option('--no-schemas', 'do not write JSON Schemas into .troupe/schemas/')
    .option('--force', 'initialise a directory that is not empty and not a troupe directory')
    .action(async (opts: { schemas: boolean; force?: boolean }, cmd: Command) => {
      const out = ctx.output(cmd);
      const target = ctx.storeTarget(cmd);
      if (target && target.engine !== 'file') {
        // A database: its schema is created (or brought up to date) and nothing else is written.
        const { PostgresStore } = await import('../../postgres/store.js');
        const { SCHEMA_VERSION } = await import('../../postgres/migrations.js');
        const store =
          target.engine === 'postgres'
            ? await PostgresStore.connect(target.url)
            : await PostgresStore.pglite(target.dir);
        const migrated = store.migrated;
        await store.close();
        const where = describeTarget(target);
        out.data({
          store: where,
          engine: target.engine,
          schemaVersion: SCHEMA_VERSION,
          created: migrated.from === 0,
        });
        out.line(
          migrated.from === SCHEMA_VERSION
            ? `Already a troupe store: ${where} (schema version ${SCHEMA_VERSION}, left as it was)`
            : migrated.from === 0
              ? `Initialised a troupe store at ${where} (schema version ${SCHEMA_VERSION})`
              : `Migrated the troupe store at ${where} from schema version ${migrated.from} to ${SCHEMA_VERSION}`,
        );
        return;
      }
      // Created where asked, or here: init never searches upward (a nested directory is allowed).
      const given = target?.dir ?? ctx.globals(cmd).dir ?? (ctx.io.env.TROUPE_HOME || undefined);
      const dir = resolve(ctx.io.cwd, given ?? DEFAULT_DIR);
      const shown = ctx.display(dir);
      assertNotAFile(dir, shown);
      const existed = isTroupeDir(dir);
      // A store inside a store (its root, a kind folder, .troupe/) would be found first by every
      // command run there and hide the one that holds it: refused, with or without --force.
      const enclosing = existed ? undefined : enclosingTroupeDir(dir);
      if (enclosing !== undefined)
        throw new TroupeError(
          'USAGE',
          `${shown} is inside the troupe directory ${enclosing}: a troupe directory there would hide it from every command run below it; run commands there as they are, or initialise a directory outside it`,
          { context: { dir, enclosing } },
        );
      // What init itself creates does not count: an init cut short (a crash, a power loss) is
      // finished by running it again.
      const found = entries(dir).filter((e) => !LAYOUT.has(e));
      if (!existed && found.length > 0 && !opts.force)
        throw new TroupeError(
          'NOT_A_TROUPE_DIRECTORY',
          `${shown} is not empty and is not a troupe directory (it holds ${found.length === 1 ? '1 entry' : `${found.length} entries`}, e.g. ${found.sort()[0]}): refusing to initialise it; pass --force to make it one anyway (nothing in it is changed or removed)`,
          { context: { dir, entries: found.length } },
        );
      const store = await FileStore.init(dir);
      await store.close();
      const schemas = opts.schemas
        ? await writeSchemas(join(dir, '.troupe', 'schemas'), { inStore: dir })
        : [];
      out.data({ dir, created: !existed, schemas });
      out.line(
        existed
          ? `Already a troupe directory: ${dir} (left as it was)`
          : `Initialised a troupe directory at ${dir}`,
      );
      if (schemas.length)
        out.line(`JSON Schemas for editors are in ${ctx.display(join(dir, '.troupe', 'schemas'))}/`);
      // The hint names the directory the way it was chosen, so it can be pasted as it is.
      const dirArg = ctx.globals(cmd).dir === undefined ? '' : ` --dir ${shellWord(ctx.globals(cmd).dir!)}`;
      if (!existed) out.line(`Next: troupe${dirArg} personality create --preset calm-analyst`);
    });
}
