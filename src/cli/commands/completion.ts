import { Argument, type Command } from 'commander';
import { SHELLS, type Shell } from '../completion.js';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(troupe completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(Object.keys(SHELLS)))
    .action((shell: Shell, _opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const script = SHELLS[shell](program);
      out.data({ shell, script });
      out.line(script.trimEnd());
    });
}
