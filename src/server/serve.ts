import type { AddressInfo } from 'node:net';
import { serve as listen } from '@hono/node-server';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import { TroupeError } from '../domain/errors.js';
import { createApp } from './app.js';
import { checkListen, type Tokens } from './auth.js';

export interface ServeOptions {
  config: ConfigurationService;
  port?: number;
  host?: string;
  tokens?: Tokens;
  maxBodyBytes?: number;
  version?: string;
  /** How long requests under way may take to finish on close; default 10 s. */
  graceMs?: number;
}

export interface Serving {
  /** Where it listens: `http://host:port`. */
  url: string;
  /**
   * Graceful shutdown: stops taking connections, ends the change feeds, lets requests under way
   * finish (their runs end, or stay recoverable in the run log), then resolves.
   */
  close(): Promise<void>;
}

/**
 * Listens with the HTTP API and the dashboard; refuses a host beyond this machine without a
 * token. Port 0 picks a free one.
 *
 * @example
 * ```ts
 * const serving = await serveHttp({ config, port: 7420, tokens: { write: process.env.TROUPE_TOKEN } });
 * process.on('SIGTERM', () => void serving.close());
 * ```
 */
export async function serveHttp(opts: ServeOptions): Promise<Serving> {
  const host = opts.host ?? '127.0.0.1';
  const tokens = opts.tokens ?? {};
  checkListen(host, tokens);
  const shutdown = new AbortController();
  const app = createApp({
    config: opts.config,
    tokens,
    signal: shutdown.signal,
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  });
  const server = await new Promise<ReturnType<typeof listen>>((resolve, reject) => {
    const s = listen({ fetch: app.fetch, port: opts.port ?? 7420, hostname: host }, () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new TroupeError(
          e.code === 'EADDRINUSE' ? 'USAGE' : 'IO_ERROR',
          e.code === 'EADDRINUSE'
            ? `port ${opts.port} on ${host} is in use`
            : `cannot listen on ${host}:${opts.port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        shutdown.abort(); // feeds end, and every answer from now on closes its connection
        const http = server as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
        // Requests under way get this long to finish; a connection still open then is cut.
        const cut = setTimeout(() => http.closeAllConnections?.(), opts.graceMs ?? 10_000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        http.closeIdleConnections?.();
      }),
  };
}
