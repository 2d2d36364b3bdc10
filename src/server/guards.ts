import type { Context } from 'hono';
import { TroupeError } from '../domain/errors.js';
import { duplicateJsonKey } from '../domain/json-keys.js';
import { printable } from '../domain/text.js';
import { HttpRefusal } from './http-errors.js';
import type { Request, Route } from './route.js';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Why a request is refused as another site's, or undefined: a browser says so (`Sec-Fetch-Site`)
 * or its `Origin` is not this server. Without a token (loopback only), a `Host` that is not a
 * loopback name is refused too: a page whose domain was rebound to 127.0.0.1 cannot read answers.
 */
export function foreignRequest(c: Context, loopbackOnly: boolean): string | undefined {
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  if (loopbackOnly) {
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
    if (!LOOPBACK_NAMES.has(name))
      // A header's value is never quoted back: it may hold anything, a pasted key included.
      return 'the Host header names another machine (the server has no token, so it answers 127.0.0.1 only)';
  }
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none')
    return `a request from another site (${site === 'cross-site' || site === 'same-site' ? site : 'Sec-Fetch-Site'}) is refused`;
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    let from: string;
    try {
      from = new URL(origin).host;
    } catch {
      return 'the Origin header is not a URL';
    }
    if (from !== host)
      return "a request from another origin is refused: only this server's own pages may call it";
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON body of a write: `Content-Type: application/json` (a form post from another site is
 * not), UTF-8 (bytes that are not are refused, never stored as U+FFFD), and an object.
 */
export async function jsonBody(c: Context, route: Pick<Route, 'method' | 'path' | 'body'>): Promise<unknown> {
  let text: string;
  try {
    text = utf8.decode(await c.req.arrayBuffer());
  } catch {
    throw new TroupeError('USAGE', 'the request body is not UTF-8', { context: { field: 'body' } });
  }
  const type = c.req.header('content-type') ?? '';
  // A route that takes a body refuses none: an empty one (curl's --data-binary @ of a file not
  // there) must not be taken for `{}`, which an apply with prune reads as "delete everything".
  const empty = text.trim() === '';
  const refuseEmpty = () => {
    if (empty && route.body)
      throw new TroupeError(
        'USAGE',
        `the request body is empty: ${route.method.toUpperCase()} /api${route.path} takes a JSON object`,
        { context: { field: 'body' } },
      );
  };
  // No body needs no type; a type given is JSON's, empty body or not (a form post is refused).
  if (empty && type === '') {
    refuseEmpty();
    return {};
  }
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type))
    throw new HttpRefusal(
      'UNSUPPORTED_MEDIA_TYPE',
      `a request body must be JSON, sent with Content-Type: application/json (got ${type ? 'another type' : 'none'})`,
    );
  refuseEmpty();
  if (empty) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TroupeError('USAGE', 'the request body is not JSON', { context: { field: 'body' } });
  }
  // A key given twice is refused, as in a file: which of the two would count is a guess.
  const dup = duplicateJsonKey(text);
  if (dup)
    throw new TroupeError('USAGE', `the request body gives key "${printable(dup.key)}" twice in one object`, {
      context: { field: 'body' },
      issues: [{ path: printable(dup.key), message: `appears twice in one object (line ${dup.line})` }],
    });
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new TroupeError(
      'USAGE',
      `the request body must be a JSON object, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}`,
      { context: { field: 'body' } },
    );
  return body;
}

/**
 * A query the route cannot take, as a usage error (undefined when it can): a parameter it does
 * not take (a misspelt `dryRun` must not write), or one given twice (which would be a guess).
 */
export function queryRefusal(c: Context, known: ReadonlySet<string>, where: string): TroupeError | undefined {
  const queries = c.req.queries();
  const unknown = Object.keys(queries).filter((k) => !known.has(k));
  if (unknown.length)
    return new TroupeError(
      'USAGE',
      `${where} takes no ${unknown.map((k) => `"${k}"`).join(', ')}${known.size ? ` (it takes ${[...known].join(', ')})` : ''}`,
      { context: { field: unknown[0] } },
    );
  const twice = Object.entries(queries).find(([, values]) => values.length > 1);
  if (twice)
    return new TroupeError(
      'USAGE',
      `${where}: "${twice[0]}" is given ${twice[1].length} times in the query: give it once`,
      { context: { field: twice[0] } },
    );
  return undefined;
}

/** Refuses a query the route cannot take (see queryRefusal). */
export function checkQuery(c: Context, route: Route): void {
  const refusal = queryRefusal(
    c,
    new Set(Object.keys(route.query ?? {})),
    `${route.method.toUpperCase()} /api${route.path}`,
  );
  if (refusal) throw refusal;
}

/**
 * A GET or DELETE takes no body: one sent (`{"mode": "cascade"}` to a DELETE, say) is refused
 * rather than ignored, since what it asks would not be done.
 */
export function refuseBody(c: Context, route: Route): undefined {
  const length = c.req.header('content-length');
  if ((length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined)
    throw new TroupeError(
      'USAGE',
      `${route.method.toUpperCase()} /api${route.path} takes no request body${route.query ? ` (it takes ${Object.keys(route.query).join(', ')} in the query)` : ''}`,
      { context: { field: 'body' } },
    );
  return undefined;
}

/** A yes/no query parameter: `true`/`1` or `false`/`0` (any case), else a usage error. */
export function flag(req: Request, name: string): boolean {
  const v = req.query(name);
  if (v === undefined) return false;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw new TroupeError('USAGE', `${name} must be true or false, got "${v}"`, { context: { field: name } });
}
