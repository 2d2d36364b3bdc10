import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';
import { EXIT } from '../output.js';
import { describeProblem } from './validate.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('reconcile')
    .description('re-compose stale agents and rewrite, restore or remove resolved files, in one commit')
    .option('--dry-run', 'show what would be fixed without writing')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const out = ctx.output(cmd);
      const r = await ctx.withConfig(cmd, (config) => config.reconcile({ dryRun: opts.dryRun === true }), {
        strays: false, // reported below, with the rest
      });
      out.data(r);
      // Files troupe does not read (editor backups, copies) are warnings, never a failure.
      for (const w of r.warnings) out.line(`warning: ${w.message}`);
      const verb = r.applied ? 'Fixed' : 'Would fix';
      if (r.fixed.length === 0 && r.remaining.length === 0) return out.line('Nothing to reconcile: valid');
      if (r.fixed.length) {
        out.line(`${verb} ${plural(r.fixed.length, 'problem')}:`);
        for (const f of r.fixed) out.line(`  ${f.message}`);
      }
      if (r.remaining.length) {
        out.line(
          `${plural(r.remaining.length, 'problem')} ${r.remaining.length === 1 ? 'needs' : 'need'} a person:`,
        );
        for (const p of r.remaining) out.lines(describeProblem(p).map((l) => `  ${l}`));
        ctx.exitCode = EXIT.failed;
      }
    });
}
