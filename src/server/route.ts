import type { z } from 'zod';
import type { Scope } from './auth.js';
import type { EntityTag } from './etag.js';

/** What a handler gets of a request, already authorised, its body parsed. */
export interface Request {
  params: Record<string, string>;
  query: (name: string) => string | undefined;
  /** The JSON body (undefined for none). */
  body: unknown;
  /** The revision `If-Match` names (compare-and-swap), if any. */
  ifMatch: number | undefined;
  /** The whole tag `If-Match` names: its revision, and the content at it when the tag holds one. */
  ifMatchTag: EntityTag | undefined;
  /** Ends when the client goes away or the server shuts down. */
  signal: AbortSignal;
}

/** What a handler answers: a JSON body, a status, and the revision to tag it with. */
export interface Reply {
  status?: number;
  body?: unknown;
  /** Sent as the ETag (and the body left out under `Prefer: return=minimal`). */
  revision?: number | undefined;
  /**
   * The stored entity the ETag names, when the body shows more than it (an agent's sync state
   * judged now): an If-Match is compared with what is stored, so a tag read here writes.
   */
  tagged?: object | undefined;
  location?: string | undefined;
  /** Further response headers (e.g. an agent's sync state beside its configuration). */
  headers?: Record<string, string> | undefined;
}

/**
 * One route: how it is mounted, who may call it, and what the OpenAPI document says of it.
 * The body and response schemas are the entities' zod schemas (documentation: the library
 * validates, so an error is the one the CLI gives).
 */
export interface Route {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** OpenAPI form: `/personalities/{id}`. */
  path: string;
  summary: string;
  tag: string;
  scope: Scope;
  body?: z.ZodType;
  response?: z.ZodType;
  /** Takes `If-Match` and answers with an ETag. */
  revisioned?: boolean;
  /** Answers 201 Created, with a Location (for the document: the handler sets the status). */
  creates?: boolean;
  /** Query parameters, for the document. */
  query?: Record<string, string>;
  handle: (req: Request) => Promise<Reply>;
}
