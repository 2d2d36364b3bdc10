import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Bundle } from '../configuration/bundle.js';
import { TroupeError } from '../domain/errors.js';
import { INPUT_SCHEMAS, jsonSchemas, toInputJsonSchema } from '../domain/json-schema.js';
import { mkdirDurable } from '../platform/disk.js';
import { fsyncDir, removeTempFiles, writeFileAtomic } from '../storage/file/atomic-write.js';
import { isLink } from '../storage/file/links.js';

/** The bundle format with each entry typed, so editors check entities inside a bundle too. */
const TypedBundle = Bundle.extend({
  personalities: INPUT_SCHEMAS.personality.array().default([]),
  roles: INPUT_SCHEMAS.role.array().default([]),
  models: INPUT_SCHEMAS.model.array().default([]),
  agents: INPUT_SCHEMAS.agent.array().default([]),
});

/** Every schema file `troupe schema` writes, by file name. */
export function schemaFiles(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(jsonSchemas())) out[`${name}.schema.json`] = schema;
  out['bundle.schema.json'] = toInputJsonSchema(TypedBundle, 'Troupe bundle');
  return out;
}

/**
 * Writes the schema files into dir, each whole and durable (an editor never finds one torn);
 * files whose content is already right are left untouched.
 */
export async function writeSchemas(dir: string, opts: { inStore?: string } = {}): Promise<string[]> {
  // A store's own `.troupe/schemas` is never written through a link (it could point anywhere,
  // committed to a repository); a folder the user names with `troupe schema -o` may be one.
  if (opts.inStore !== undefined && isLink(dir)) {
    const rel = relative(opts.inStore, dir).split('\\').join('/');
    throw new TroupeError(
      'VALIDATION_FAILED',
      `${rel} is a symbolic link: troupe never follows links inside its directory (a link committed to a repository could point anywhere); replace it with a regular folder`,
      { issues: [{ file: rel, path: '(file)', message: 'is a symbolic link' }], context: { path: rel } },
    );
  }
  await mkdirDurable(dir);
  // What an interrupted write of these files left (its writer is gone).
  await removeTempFiles(dir, true);
  const written: string[] = [];
  for (const [file, schema] of Object.entries(schemaFiles())) {
    const path = join(dir, file);
    const text = `${JSON.stringify(schema, null, 2)}\n`;
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current !== text) await writeFileAtomic(path, text);
    written.push(path);
  }
  await fsyncDir(dir);
  return written;
}
