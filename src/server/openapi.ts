import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors.js';
import { HTTP_ONLY } from './http-errors.js';
import type { Route } from './route.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

const ErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES, ...Object.keys(HTTP_ONLY)] },
        message: { type: 'string' },
        retryable: { type: 'boolean' },
        issues: { type: 'array', items: { type: 'object' } },
        context: { type: 'object' },
      },
    },
    conflict: {
      type: 'object',
      description: 'On 412: the revision asked for, the current one, and each field changed since',
    },
  },
};

type Schema = Record<string, unknown>;

/**
 * A JSON merge patch (RFC 7396) of what `schema` describes: every field optional, and any field
 * of an object may be null (which removes it). Unknown fields stay refused.
 */
function mergePatchOf(schema: Schema): Schema {
  if (Array.isArray(schema.anyOf))
    return { ...schema, anyOf: schema.anyOf.map((s) => mergePatchOf(s as Schema)) };
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null)
    return schema;
  const { required: _required, properties, ...rest } = schema;
  return {
    ...rest,
    properties: Object.fromEntries(
      Object.entries(properties as Record<string, Schema>).map(([k, v]) => [
        k,
        { anyOf: [mergePatchOf(v), { type: 'null' }] },
      ]),
    ),
  };
}

const errorReply = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

/** The change feed, served beside the routes (server-sent events, not JSON). */
const FEED = {
  get: {
    summary: 'The change feed as server-sent events: `change` per commit, `relist` when it cannot replay',
    tags: ['feed'],
    security: [{ bearer: [] }],
    'x-scope': 'read',
    parameters: [
      {
        name: 'from',
        in: 'query',
        required: false,
        description: 'replay the changes after this position (or send Last-Event-ID)',
        schema: { type: 'string', pattern: '^\\d+$' },
      },
    ],
    responses: {
      '200': {
        description: 'The feed: `ready`, then `change` and `relist` events',
        content: { 'text/event-stream': {} },
      },
      default: errorReply('An error, with the same code as the CLI'),
    },
  },
};

/** The OpenAPI 3.1 document of `routes`, its schemas generated from the entities' zod schemas. */
export function openApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = Object.entries(r.query ?? {}).map(([name, description]) => ({
      name,
      in: 'query',
      required: false,
      description,
      schema: { type: 'string' },
    }));
    const headers = r.revisioned
      ? [
          {
            name: 'If-Match',
            in: 'header',
            required: false,
            description: 'compare-and-swap: the ETag read',
            schema: { type: 'string' },
          },
        ]
      : [];
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      security: [{ bearer: [] }],
      'x-scope': r.scope,
      parameters: [...params, ...query, ...headers],
      ...(r.body ? { requestBody: requestBody(r) } : {}),
      responses: {
        [r.creates ? '201' : '200']: {
          description: r.creates ? 'Created' : 'OK',
          ...(r.revisioned || r.creates ? { headers: replyHeaders(r) } : {}),
          content: { 'application/json': { schema: r.response ? jsonSchema(r.response, 'output') : {} } },
        },
        ...(r.method === 'get'
          ? {}
          : {
              '204': {
                description: 'Done, with `Prefer: return=minimal`: no body',
                ...(r.revisioned || r.creates ? { headers: replyHeaders(r) } : {}),
              },
            }),
        ...(r.revisioned
          ? {
              '412': errorReply(
                'If-Match is not the current ETag: nothing was written; `conflict` says what changed',
              ),
            }
          : {}),
        default: errorReply('An error, with the same code as the CLI'),
      },
    };
  }
  paths['/feed'] = FEED;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Troupe',
      version,
      description: 'Configuration of a cast of AI agents: personalities, roles, agents and models.',
    },
    // Every path is under /api on the server that serves this document.
    servers: [{ url: '/api' }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/** A write's body: the entity's schema, or for a PATCH a merge patch of it. */
function requestBody(r: Route) {
  const schema = jsonSchema(r.body as z.ZodType, 'input');
  if (r.method !== 'patch') return { required: true, content: { 'application/json': { schema } } };
  const patch = mergePatchOf(schema);
  return {
    required: true,
    content: { 'application/json': { schema: patch }, 'application/merge-patch+json': { schema: patch } },
  };
}

/** The ETag of what was written or read, and where a created entity is. */
const replyHeaders = (r: Route) => ({
  ETag: { schema: { type: 'string' } },
  ...(r.creates ? { Location: { schema: { type: 'string' } } } : {}),
});
