import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { refuseInsideStore } from '../outside-store.js';
import { writeSchemas } from '../schemas.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description(
      'write JSON Schemas of the file formats (personality, role, agent, model, bundle) for editors',
    )
    .option('-o, --output <dir>', 'directory to write them to (default: <config dir>/.troupe/schemas)')
    .action(async (opts: { output?: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const dir = opts.output ? ctx.path(opts.output) : join(ctx.dir(cmd), '.troupe', 'schemas');
      if (opts.output) await refuseInsideStore(ctx.dir(cmd), dir, opts.output, [join('.troupe', 'schemas')]);
      const files = await writeSchemas(dir, opts.output ? {} : { inStore: ctx.dir(cmd) });
      out.data({ dir, files });
      out.line(`Wrote ${files.length} JSON Schemas to ${ctx.display(dir)}/:`);
      for (const f of files) out.line(`  ${relative(dir, f)}`);
      out.line('Reference one from a file with "$schema": "<path to>/personality.schema.json".');
    });
}
