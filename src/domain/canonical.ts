import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth and undefined dropped: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** The store's metadata: left out of a document's content hash. */
const METADATA = new Set(['revision', 'createdAt', 'updatedAt', 'commit', '$schema']);

/**
 * The content identity of a stored document or entity (a personality, a role, a model entry):
 * the hash of every field but the store's metadata. Equal content, equal hash, at any revision.
 */
export function contentHash(doc: object): string {
  return hashOf(Object.fromEntries(Object.entries(doc).filter(([k]) => !METADATA.has(k))));
}

/** sha256 of the canonical JSON, hex. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
