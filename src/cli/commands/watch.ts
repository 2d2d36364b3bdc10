import type { Command } from 'commander';
import { TroupeError } from '../../domain/errors.js';
import type { ChangeEvent, RelistEvent } from '../../storage/store.js';
import type { CliContext } from '../context.js';

/** One change as a line: position, what, which document, its revision, and the commit. */
export const changeLine = (e: ChangeEvent | RelistEvent): string =>
  e.type === 'relist'
    ? `relist: ${e.reason} (then from ${e.position})`
    : `${String(e.position).padStart(6)}  ${e.op.padEnd(6)}  ${`${e.kind}/${e.id}`.padEnd(32)}  r${e.revision}${e.writer ? `  commit ${e.writer.slice(0, 12)}` : ''}`;

export function register(program: Command, ctx: CliContext): void {
  program
    .command('watch')
    .description(
      'print each change to the configuration as it is committed, until Ctrl-C (with --json, one JSON object per line)',
    )
    .option(
      '--from <position>',
      'start after this position of the change feed (what a previous watch printed last)',
    )
    .action(async (opts: { from?: string }, cmd: Command) => {
      const json = ctx.globals(cmd).json === true;
      if (opts.from !== undefined && !/^\d{1,15}$/.test(opts.from))
        throw new TroupeError(
          'USAGE',
          `--from must be a whole number (a position the feed printed), got "${opts.from}"`,
        );
      const fromRevision = opts.from === undefined ? undefined : Number(opts.from);
      await ctx.withConfig(
        cmd,
        async (_config, store) => {
          if (!store.watch) throw new TroupeError('USAGE', 'this store has no change feed');
          const feed = store.watch({
            fromRevision,
            signal: ctx.io.signal,
            onReady: () => ctx.notice('watching for changes (Ctrl-C to stop)'),
          });
          for await (const e of feed) ctx.io.stdout(`${json ? JSON.stringify(e) : changeLine(e)}\n`);
        },
        { recover: false },
      );
    });
}
