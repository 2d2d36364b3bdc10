import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FileStore } from '../../storage/file/index.js';
import type { CliContext } from '../context.js';
import { writeSchemas } from '../schemas.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export function register(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description(
      'create the configuration directory (personalities/, roles/, agents/, models/, resolved/, .troupe/)',
    )
    .option('--no-schemas', 'do not write JSON Schemas into .troupe/schemas/')
    .action(async (opts: { schemas: boolean }, cmd: Command) => {
      const out = ctx.output(cmd);
      const dir = ctx.dir(cmd);
      const existed = await exists(join(dir, '.troupe', 'store.json'));
      const store = await FileStore.init(dir);
      await store.close();
      const schemas = opts.schemas ? await writeSchemas(join(dir, '.troupe', 'schemas')) : [];
      out.data({ dir, created: !existed, schemas });
      out.line(
        existed
          ? `Already a troupe directory: ${dir} (left as it was)`
          : `Initialised a troupe directory at ${dir}`,
      );
      if (schemas.length)
        out.line(`JSON Schemas for editors are in ${ctx.display(join(dir, '.troupe', 'schemas'))}/`);
      if (!existed) out.line('Next: troupe personality create --preset calm-analyst');
    });
}
