import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Argument, type Command } from 'commander';
import { stringify } from 'yaml';
import { EXPORT_KINDS, type ExportSelection } from '../../configuration/export-selection.js';
import { TroupeError, validationError } from '../../domain/errors.js';
import { entityIdFromFileName } from '../../storage/file/layout.js';
import type { Store } from '../../storage/store.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';
import { refuseInsideStore } from '../outside-store.js';

const isYaml = (file: string) => /\.ya?ml$/i.test(file);

export function register(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description(
      'write every personality, custom role, model and agent as one bundle (JSON, or YAML for .yaml/.yml)',
    )
    .addArgument(new Argument('[kind]', 'export one entity of this kind').choices(EXPORT_KINDS))
    .argument('[id]', 'its id')
    .option('--with-deps', "with an agent: its personality, custom role and the directory's model it uses")
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(
      async (
        kind: ExportSelection['kind'] | undefined,
        id: string | undefined,
        opts: { output?: string; withDeps?: boolean },
        cmd: Command,
      ) => {
        const out = ctx.output(cmd);
        if (kind && !id)
          throw new TroupeError('USAGE', `export ${kind} needs an id: troupe export ${kind} ID`);
        if (opts.withDeps && kind !== 'agent')
          throw new TroupeError('USAGE', '--with-deps needs an agent: troupe export agent ID --with-deps');
        const selection = kind && id ? { kind, id, withDeps: opts.withDeps === true } : undefined;
        const target = ctx.storeTarget(cmd);
        if (opts.output && (!target || target.engine === 'file'))
          await refuseInsideStore(target?.dir ?? ctx.dir(cmd), ctx.path(opts.output), opts.output);
        const bundle = await ctx.withConfig(cmd, async (config, store) => {
          if (!selection) await refuseLeftOut(store);
          return config.exportBundle(selection);
        });
        if (!opts.output) return out.raw(JSON.stringify(bundle, null, 2));
        const text = isYaml(opts.output) ? stringify(bundle) : `${JSON.stringify(bundle, null, 2)}\n`;
        await writeOutput(ctx.path(opts.output), opts.output, text);
        const counts = Object.fromEntries(Object.entries(bundle).map(([k, v]) => [k, v.length]));
        out.data({ file: ctx.path(opts.output), counts });
        out.line(
          `Exported ${plural(bundle.personalities.length, 'personality', 'personalities')}, ${plural(bundle.roles.length, 'role')}, ` +
            `${plural(bundle.models.length, 'model')} and ${plural(bundle.agents.length, 'agent')} to ${opts.output}`,
        );
      },
    );
}

/** The folders a bundle is made of. */
const BUNDLE_FOLDERS = new Set(['personalities', 'roles', 'models', 'agents']);

/**
 * Refuses a whole export (or a migration) that would leave out an entity: a name of a bundle's
 * folders that is an entity's (`<id>.json`) but no file the store reads (a link, a FIFO, a
 * folder). The bundle would not apply elsewhere (its agents naming what it lacks).
 */
export async function refuseLeftOut(store: Store): Promise<void> {
  const left = ((await store.strays?.()) ?? []).filter(({ file }) => {
    const [folder, name, more] = file.split('/');
    return (
      more === undefined && BUNDLE_FOLDERS.has(folder ?? '') && entityIdFromFileName(name ?? '') !== undefined
    );
  });
  if (left.length)
    throw validationError(
      `the bundle would leave out ${left.map((l) => `${l.file} (${l.why})`).join('; ')}: put the file itself there, or remove it`,
      left.map((l) => ({ file: l.file, path: '(root)', message: l.why })),
    );
}

/**
 * Writes the bundle to the file `-o` names (made if missing). Opened without waiting: a FIFO no
 * one reads is refused at once, never waited on forever; one being read (`-o /dev/stdout` into
 * a pipe) or a device (`/dev/null`) is written as usual.
 */
async function writeOutput(path: string, shown: string, text: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o666);
    if ((await fh.stat()).isFile()) await fh.truncate(0);
    else {
      // Someone reads it: written to without O_NONBLOCK, so a full pipe waits for its reader.
      await fh.close();
      fh = await open(path, 'w');
    }
    await fh.writeFile(text);
  } catch (e) {
    if (e instanceof TroupeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENXIO' ? 'a FIFO no one reads' : code === 'EISDIR' ? 'a folder' : code;
    throw new TroupeError('IO_ERROR', `${shown}: cannot write (${why})`, { cause: e });
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
