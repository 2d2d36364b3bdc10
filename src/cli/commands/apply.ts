import { type Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { type ApplyFlags, applyBundleFile } from './import.js';

/** `troupe apply -f FILE`: `troupe import FILE` under the name declarative tools use. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('apply')
    .description('apply a bundle file all-or-nothing, like `import`: create, update, and with --prune delete')
    .addOption(
      new Option(
        '-f, --file <file>',
        'bundle file (JSON or YAML): { personalities, roles, models, agents }',
      ).makeOptionMandatory(),
    )
    .option('--dry-run', 'print the diff without writing anything')
    .option('--prune', 'delete stored agents, personalities and custom roles the bundle leaves out')
    .action((opts: ApplyFlags & { file: string }, cmd: Command) =>
      applyBundleFile(ctx, cmd, opts.file, opts, 'Applied'),
    );
}
