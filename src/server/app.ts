import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import { TroupeError } from '../domain/errors.js';
import { type Scope, scopeOf, type Tokens } from './auth.js';
import { PreconditionFailed } from './conflict.js';
import { dashboardPage } from './dashboard/page.js';
import { DASHBOARD_SCRIPT } from './dashboard/script.js';
import { DASHBOARD_STYLE } from './dashboard/style.js';
import { etagOf, ifMatchTag, matchesTag, noneMatchHolds } from './etag.js';
import { checkQuery, foreignRequest, jsonBody, queryRefusal, refuseBody } from './guards.js';
import { errorBody, HttpRefusal, httpError } from './http-errors.js';
import { openApiDocument } from './openapi.js';
import { referencePage } from './reference.js';
import type { Route } from './route.js';
import { agentRoutes } from './routes/agents.js';
import { bundleRoutes } from './routes/bundle.js';
import { modelRoutes } from './routes/models.js';
import { personalityRoutes } from './routes/personalities.js';
import { roleRoutes } from './routes/roles.js';
import { runRoutes } from './routes/runs.js';

export interface AppOptions {
  config: ConfigurationService;
  tokens?: Tokens;
  /** Largest request body accepted; default 4 MiB. */
  maxBodyBytes?: number;
  /** Ends every open change feed (graceful shutdown). */
  signal?: AbortSignal;
  version?: string;
}

/** Every route of the API, one module per noun, all over the library. */
export const apiRoutes = (config: ConfigurationService): Route[] => [
  ...personalityRoutes(config),
  ...roleRoutes(config),
  ...agentRoutes(config),
  ...modelRoutes(config),
  ...runRoutes(config),
  ...bundleRoutes(config),
];

/** The pages run only their own script and style, and talk only to this server. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
const send = (c: Context, r: { status: number; body: unknown }, headers: Record<string, string> = {}) =>
  c.json(r.body as never, r.status as never, headers);

/**
 * The HTTP API and the dashboard: the same library, codes and guarantees as the CLI. Nothing
 * is logged; errors are answered as JSON with the CLI's codes, every string scrubbed.
 *
 * @example
 * ```ts
 * const app = createApp({ config, tokens: { write: process.env.TROUPE_TOKEN } });
 * serve({ fetch: app.fetch, port: 7420, hostname: '127.0.0.1' });
 * ```
 */
export function createApp(opts: AppOptions): Hono {
  const { config } = opts;
  const tokens = opts.tokens ?? {};
  const routes = apiRoutes(config);
  // Not strict: `/api/personalities/` is `/api/personalities`, as the 405 check takes it too.
  const app = new Hono({ strict: false });
  const authorised = (c: Context, need: Scope) => {
    const scope = scopeOf(c.req.header('authorization'), tokens);
    if (!scope)
      return send(
        c,
        httpError('UNAUTHORIZED', 'this server needs a bearer token: Authorization: Bearer <token>'),
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    if (need === 'write' && scope !== 'write')
      return send(c, httpError('FORBIDDEN', 'this token may only read; writing needs TROUPE_TOKEN'));
    return undefined;
  };
  app.use(
    '*',
    bodyLimit({
      maxSize: opts.maxBodyBytes ?? 4 * 1024 * 1024,
      onError: (c) =>
        send(
          c,
          httpError(
            'PAYLOAD_TOO_LARGE',
            `request bodies are limited to ${opts.maxBodyBytes ?? 4 * 1024 * 1024} bytes`,
          ),
        ),
    }),
  );
  app.onError((e, c) => send(c, errorBody(e)));
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    return allow.length
      ? send(c, httpError('METHOD_NOT_ALLOWED', `${c.req.method} is not a method of ${c.req.path}`), {
          Allow: allow.join(', '),
        })
      : send(c, errorBody(new TroupeError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)));
  });
  // Once shutting down, every answer closes its connection: none is kept for another request.
  app.use('*', async (c, next) => {
    await next();
    if (opts.signal?.aborted) c.header('Connection', 'close');
  });
  // Without a token the server is this machine's only: another site's page (or one whose
  // domain was rebound to 127.0.0.1) is refused before anything else.
  const loopbackOnly = !tokens.write && !tokens.read;
  app.use('/api/*', async (c, next) => {
    const why = foreignRequest(c, loopbackOnly);
    if (why) return send(c, httpError('FORBIDDEN', why));
    await next();
  });
  const patterns = routes.map((r) => ({
    method: r.method.toUpperCase(),
    re: new RegExp(`^/api${r.path.replace(/\{\w+\}/g, '[^/]+')}/?$`),
  }));
  const allowed = (path: string) => [
    ...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method)),
  ];

  for (const r of routes) {
    app.on(r.method.toUpperCase(), `/api${honoPath(r.path)}`, async (c) => {
      const refused = authorised(c, r.scope);
      if (refused) return refused;
      try {
        checkQuery(c, r);
        const condition = c.req.header('if-match');
        const unlessTag = c.req.header('if-none-match');
        // Never ignored: a write conditioned on it would go through as if unconditioned.
        if (unlessTag !== undefined && r.method !== 'get')
          throw new TroupeError(
            'USAGE',
            `If-None-Match is not taken by ${r.method.toUpperCase()}: send If-Match with the ETag read (compare-and-swap); a create already refuses an id that exists`,
            { context: { field: 'If-None-Match' } },
          );
        if (condition !== undefined && !r.revisioned)
          throw new HttpRefusal(
            'PRECONDITION_FAILED',
            `${r.method.toUpperCase()} /api${r.path} has no entity tag to match`,
          );
        const body = r.method !== 'get' && r.method !== 'delete' ? await jsonBody(c, r) : refuseBody(c, r);
        const tag = r.revisioned ? ifMatchTag(condition) : undefined;
        const reply = await r.handle({
          params: c.req.param() as Record<string, string>,
          query: (name) => c.req.query(name),
          body,
          ifMatch: tag?.revision,
          ifMatchTag: tag,
          signal: c.req.raw.signal,
        });
        if (
          r.method === 'get' &&
          tag !== undefined &&
          !matchesTag(tag, { ...((reply.tagged ?? reply.body) as object), revision: reply.revision })
        )
          throw new HttpRefusal(
            'PRECONDITION_FAILED',
            `If-Match ${condition} is not the current ${etagOf(reply.revision ?? 0, reply.tagged ?? reply.body)}`,
          );
        const headers: Record<string, string> = { ...reply.headers };
        if (reply.revision !== undefined) headers.ETag = etagOf(reply.revision, reply.tagged ?? reply.body);
        // A read of what the client has already: 304, no body (RFC 9110, weak comparison).
        if (unlessTag !== undefined && headers.ETag !== undefined && noneMatchHolds(unlessTag, headers.ETag))
          return c.body(null, 304, headers);
        if (reply.location) headers.Location = `/api${reply.location}`;
        const status = reply.status ?? 200;
        if (r.method !== 'get' && /\breturn=minimal\b/.test(c.req.header('prefer') ?? ''))
          return c.body(null, (status === 200 ? 204 : status) as never, {
            ...headers,
            'Preference-Applied': 'return=minimal',
          });
        return send(c, { status, body: reply.body ?? null }, headers);
      } catch (e) {
        if (e instanceof PreconditionFailed) {
          const { body } = errorBody(e.cause);
          return send(c, { status: 412, body: { ...body, conflict: e.conflict } });
        }
        return send(c, errorBody(e));
      }
    });
  }

  const doc = openApiDocument(routes, opts.version ?? '0');
  // The document and the pages hold no data: served without a token, like any static asset.
  const docText = JSON.stringify(doc);
  app.get('/openapi.json', (c) => c.body(docText, 200, { 'Content-Type': 'application/json' }));
  app.get('/docs', (c) => c.html(referencePage(doc), 200, { 'Content-Security-Policy': CSP }));
  const page = {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  app.get('/', (c) => c.html(dashboardPage(), 200, page));
  app.get('/dashboard.js', (c) =>
    c.body(DASHBOARD_SCRIPT, 200, { ...page, 'Content-Type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/dashboard.css', (c) =>
    c.body(DASHBOARD_STYLE, 200, { ...page, 'Content-Type': 'text/css; charset=utf-8' }),
  );

  // The change feed as server-sent events: each change as it is committed, from `?from=N`.
  app.get('/api/feed', (c) => {
    const refused = authorised(c, 'read');
    if (refused) return refused;
    if (opts.signal?.aborted)
      return send(
        c,
        errorBody(new TroupeError('TRANSIENT', 'the server is shutting down: watch again from another')),
      );
    const store = config.services.store;
    if (!store.watch) return send(c, errorBody(new TroupeError('USAGE', 'this store has no change feed')));
    const refusal = queryRefusal(c, new Set(['from']), 'GET /api/feed');
    if (refusal) return send(c, errorBody(refusal));
    const from = c.req.query('from') ?? c.req.header('last-event-id');
    if (from !== undefined && !/^\d{1,15}$/.test(from))
      return send(
        c,
        errorBody(
          new TroupeError('USAGE', `from must be a whole number, got "${from}"`, {
            context: { field: 'from' },
          }),
        ),
      );
    const fromRevision = from === undefined ? undefined : Number(from);
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      const end = () => stop.abort();
      c.req.raw.signal.addEventListener('abort', end, { once: true });
      opts.signal?.addEventListener('abort', end, { once: true });
      stream.onAbort(end);
      try {
        // "ready" once the feed is watching: a change committed after it is in the stream.
        const onReady = () => void stream.writeSSE({ event: 'ready', data: '{}' });
        for await (const e of store.watch!({ fromRevision, signal: stop.signal, onReady })) {
          await stream.writeSSE({
            event: e.type === 'relist' ? 'relist' : 'change',
            data: JSON.stringify(e),
            ...(e.type === 'relist' ? {} : { id: String(e.position) }),
          });
        }
      } catch (e) {
        if (!stop.signal.aborted)
          await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody(e).body) });
      } finally {
        opts.signal?.removeEventListener('abort', end);
      }
    });
  });
  return app;
}
