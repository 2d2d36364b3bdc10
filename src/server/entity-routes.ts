import type { z } from 'zod';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import { TroupeError } from '../domain/errors.js';
import type { Kind } from '../storage/store.js';
import { compareAndSwap } from './conflict.js';
import type { Request, Route } from './route.js';

type Revisioned = { id: string; revision?: number | undefined };

/** What a noun's routes need of the library: its service's reads, and its workflows. */
export interface EntityApi {
  noun: Kind;
  /** Singular, for summaries. */
  one: string;
  entity: z.ZodType;
  input: z.ZodType;
  /** The entity service whose reads the routes serve. */
  reads: (config: ConfigurationService) => {
    list(): Promise<Revisioned[]>;
    get(id: string): Promise<Revisioned | undefined>;
    /** What can be read, and the refusal of each document that cannot (one broken by hand). */
    readable?(): Promise<{ entities: Revisioned[]; refused: Error[] }>;
  };
  create: (config: ConfigurationService, body: unknown, req: Request) => Promise<Revisioned>;
  update: (
    config: ConfigurationService,
    id: string,
    patch: unknown,
    expectedRevision: number | undefined,
    req: Request,
  ) => Promise<Revisioned>;
  remove: (
    config: ConfigurationService,
    id: string,
    expectedRevision: number | undefined,
    req: Request,
  ) => Promise<unknown>;
  /**
   * What a read shows of stored entities, when more than the documents (an agent's sync state
   * judged now); with headers for a read of one.
   */
  shown?: (
    config: ConfigurationService,
    stored: Revisioned[],
  ) => Promise<{ bodies: unknown[]; headers?: (i: number) => Record<string, string> }>;
  /** Query parameters of create and of delete (the only ones each takes). */
  createQuery?: Record<string, string>;
  removeQuery?: Record<string, string>;
}

const found = (api: EntityApi, id: string, e: Revisioned | undefined): Revisioned => {
  if (!e)
    throw new TroupeError('NOT_FOUND', `${api.one} "${id}" not found`, { context: { kind: api.noun, id } });
  return e;
};

/** The files (rows) a listing left out, for a header: each named by its error's file, URI-encoded. */
const leftOut = (refused: Error[]): string =>
  refused
    .map((e) => {
      const file = (e as { context?: { file?: unknown } }).context?.file;
      return encodeURIComponent(typeof file === 'string' ? file : 'unreadable');
    })
    .join(', ');

/** List, read, create, merge-patch and delete of one noun, over the ConfigurationService. */
export function entityRoutes(api: EntityApi, config: ConfigurationService): Route[] {
  const base = `/${api.noun}`;
  const tag = api.noun;
  const cas = <T>(id: string, req: Request, write: () => Promise<T>) =>
    compareAndSwap(
      config.services.store,
      api.noun,
      id,
      req.ifMatchTag,
      () => api.reads(config).get(id),
      write,
    );
  return [
    {
      method: 'get',
      path: base,
      summary: `List ${api.noun}`,
      tag,
      scope: 'read',
      handle: async () => {
        // As `troupe … list`: what can be read, and each document broken by hand left out and
        // named (`Troupe-Left-Out`), not the whole list refused for one of them.
        const reads = api.reads(config);
        const { entities: stored, refused } = reads.readable
          ? await reads.readable()
          : { entities: await reads.list(), refused: [] };
        const headers = refused.length ? { 'Troupe-Left-Out': leftOut(refused) } : undefined;
        return { body: api.shown ? (await api.shown(config, stored)).bodies : stored, headers };
      },
    },
    {
      method: 'get',
      path: `${base}/{id}`,
      summary: `Read one ${api.one} (its revision is the ETag)`,
      tag,
      scope: 'read',
      revisioned: true,
      response: api.entity,
      handle: async (req) => {
        const e = found(api, req.params.id as string, await api.reads(config).get(req.params.id as string));
        if (!api.shown) return { body: e, revision: e.revision };
        const { bodies, headers } = await api.shown(config, [e]);
        return { body: bodies[0], revision: e.revision, tagged: e, headers: headers?.(0) };
      },
    },
    {
      method: 'post',
      path: base,
      summary: `Create a ${api.one}`,
      tag,
      scope: 'write',
      creates: true,
      ...(api.createQuery ? { query: api.createQuery } : {}),
      body: api.input,
      response: api.entity,
      handle: async (req) => {
        const e = await api.create(config, req.body, req);
        return {
          status: 201,
          body: e,
          revision: e.revision,
          location: `${base}/${encodeURIComponent(e.id)}`,
        };
      },
    },
    {
      method: 'patch',
      path: `${base}/{id}`,
      summary: `Change a ${api.one} with a JSON merge patch (If-Match: compare-and-swap)`,
      tag,
      scope: 'write',
      revisioned: true,
      body: api.input,
      response: api.entity,
      handle: async (req) => {
        const id = req.params.id as string;
        const e = await cas(id, req, () => api.update(config, id, req.body, req.ifMatch, req));
        return { body: e, revision: e.revision };
      },
    },
    {
      method: 'delete',
      path: `${base}/{id}`,
      summary: `Delete a ${api.one} (If-Match: compare-and-swap)`,
      tag,
      scope: 'write',
      revisioned: true,
      ...(api.removeQuery ? { query: api.removeQuery } : {}),
      handle: async (req) => {
        const id = req.params.id as string;
        return { body: await cas(id, req, () => api.remove(config, id, req.ifMatch, req)) };
      },
    },
  ];
}
