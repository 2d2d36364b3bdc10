import type { Command } from 'commander';
import type { Inconsistency } from '../../configuration/consistency.js';
import type { CliContext } from '../context.js';
import { plural } from '../format.js';
import { EXIT } from '../output.js';

/** One problem as a person reads it: the message (it names the file), its field issues, a hint. */
export function describeProblem(p: Inconsistency): string[] {
  const lines = [`${p.message}${p.fixable ? '  [fixable: troupe reconcile]' : ''}`];
  for (const i of p.issues ?? []) {
    if (!p.message.includes(i.message)) lines.push(`  ${i.path}: ${i.message}`);
  }
  return lines;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check every file of the configuration directory; exit 1 if anything is wrong')
    .action(async (_opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const found = await ctx.withConfig(cmd, (config) => config.detectInconsistencies(), { strays: false });
      // Files troupe does not read (editor backups, copies) are warnings, never a failure.
      const warnings = found.filter((p) => p.kind === 'stray-file');
      const problems = found.filter((p) => p.kind !== 'stray-file');
      out.data({ valid: problems.length === 0, problems, ...(warnings.length ? { warnings } : {}) });
      for (const w of warnings) out.line(`warning: ${w.message}`);
      if (problems.length === 0) return out.line('valid');
      for (const p of problems) out.lines(describeProblem(p));
      const fixable = problems.filter((p) => p.fixable).length;
      out.line(
        `${plural(problems.length, 'problem')} found${fixable ? `; ${fixable} can be fixed with \`troupe reconcile\`` : ''}`,
      );
      ctx.exitCode = EXIT.failed;
    });
}
