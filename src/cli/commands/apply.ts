import { type Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT } from '../output.js';
import { type ApplyFlags, addBundleOptions, applyBundleFile } from './import.js';

const fileOption = () =>
  new Option(
    '-f, --file <file>',
    'bundle file (JSON or YAML): { personalities, roles, models, agents }',
  ).makeOptionMandatory();

/** `troupe apply -f FILE`: `troupe import FILE` under the name declarative tools use; `troupe diff -f FILE`. */
export function register(program: Command, ctx: CliContext): void {
  const apply = program
    .command('apply')
    .description('apply a bundle file all-or-nothing, like `import`: create, update, and with --prune delete')
    .addOption(fileOption());
  addBundleOptions(apply).action(async (opts: ApplyFlags & { file: string }, cmd: Command) => {
    await applyBundleFile(ctx, cmd, opts.file, opts, 'Applied');
  });

  const diff = program
    .command('diff')
    .description(
      'print what `apply -f FILE` would change, writing nothing; exit 1 if it would change anything',
    )
    .addOption(fileOption());
  addBundleOptions(diff, false).action(async (opts: ApplyFlags & { file: string }, cmd: Command) => {
    const changes = await applyBundleFile(ctx, cmd, opts.file, { ...opts, dryRun: true }, 'Applied');
    // Like `kubectl diff`: 0 when the directory already is what the file says, 1 when it is not.
    if (changes.some((c) => c.action !== 'unchanged')) ctx.exitCode = EXIT.failed;
  });
}
