import { z } from 'zod';
import { ERROR_CODES } from '../domain/errors.js';
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
        code: { type: 'string', enum: [...ERROR_CODES, 'UNAUTHORIZED', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE'] },
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
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      responses: {
        '200': {
          description: 'OK',
          ...(r.revisioned ? { headers: { ETag: { schema: { type: 'string' } } } } : {}),
          content: { 'application/json': { schema: r.response ? jsonSchema(r.response, 'output') : {} } },
        },
        default: {
          description: 'An error, with the same code as the CLI',
          content: { 'application/json': { schema: ErrorSchema } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Troupe',
      version,
      description: 'Configuration of a cast of AI agents: personalities, roles, agents and models.',
    },
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}
