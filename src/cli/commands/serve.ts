import type { Command } from 'commander';
import { TroupeError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (/api, /openapi.json, /docs) and the dashboard (/) until Ctrl-C or SIGTERM; TROUPE_TOKEN (read and write) and TROUPE_READ_TOKEN (read only) are the bearer tokens',
    )
    .option('--port <port>', 'the port to listen on (0: any free one)', '7420')
    .option('--host <host>', 'the address to listen on (beyond 127.0.0.1 it needs TROUPE_TOKEN)', '127.0.0.1')
    .action(async (opts: { port: string; host: string }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new TroupeError('USAGE', `--port must be a whole number from 0 to 65535, got "${opts.port}"`);
      const out = ctx.output(cmd);
      const tokens = {
        write: ctx.io.env.TROUPE_TOKEN || undefined,
        read: ctx.io.env.TROUPE_READ_TOKEN || undefined,
      };
      const [{ serveHttp }, { VERSION }] = await Promise.all([
        import('../../server/serve.js'),
        import('../main.js'),
      ]);
      await ctx.withConfig(
        cmd,
        async (config) => {
          const serving = await serveHttp({ config, port, host: opts.host, tokens, version: VERSION });
          const auth = tokens.write || tokens.read ? 'bearer token required' : 'no token (this machine only)';
          if (out.json) {
            // What the store warned of at start is said now, not when the server stops.
            ctx.notice(`serving ${serving.url}`);
            ctx.io.stdout(`${JSON.stringify({ listening: serving.url, auth })}\n`);
          } else
            ctx.io.stdout(
              `troupe serving ${serving.url} (dashboard /, API /api, reference /docs; ${auth})\n`,
            );
          await new Promise<void>((resolve) => {
            const stop = () => resolve();
            ctx.io.signal?.addEventListener('abort', stop, { once: true });
            process.once('SIGTERM', stop);
          });
          ctx.notice('shutting down: finishing requests under way');
          await serving.close();
        },
        { interruptible: false },
      );
    });
}
