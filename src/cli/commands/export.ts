import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { TroupeError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';

const isYaml = (file: string) => /\.ya?ml$/i.test(file);

export function register(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description(
      'write every personality, custom role, model and agent as one bundle (JSON, or YAML for .yaml/.yml)',
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (opts: { output?: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const bundle = await ctx.withConfig(cmd, (config) => config.exportBundle());
      if (!opts.output) return out.raw(JSON.stringify(bundle, null, 2));
      const text = isYaml(opts.output) ? stringify(bundle) : `${JSON.stringify(bundle, null, 2)}\n`;
      try {
        await writeFile(ctx.path(opts.output), text);
      } catch (e) {
        throw new TroupeError(
          'IO_ERROR',
          `${opts.output}: cannot write (${(e as NodeJS.ErrnoException).code})`,
          {
            cause: e,
          },
        );
      }
      const counts = Object.fromEntries(Object.entries(bundle).map(([k, v]) => [k, v.length]));
      out.data({ file: ctx.path(opts.output), counts });
      out.line(
        `Exported ${plural(bundle.personalities.length, 'personality', 'personalities')}, ${plural(bundle.roles.length, 'role')}, ` +
          `${plural(bundle.models.length, 'model')} and ${plural(bundle.agents.length, 'agent')} to ${opts.output}`,
      );
    });
}
