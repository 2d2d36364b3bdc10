import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreshProject, freshProject, repo, repoVersion } from '../fresh-project.js';

/** The optional peers (package.json's peerDependenciesMeta), and the packages their types come in. */
const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const optional = Object.entries(manifest.peerDependenciesMeta)
  .filter(([, meta]) => meta.optional)
  .map(([name]) => name);
const typesOf = (name: string) => `@types/${name.replace(/^@([^/]+)\/(.*)$/, '$1__$2')}`;

/** A user's code reaching every entry point: the root, troupe/postgres, troupe/server and troupe/testing. */
const userCode = `import { ConfigurationService, MemoryStore } from 'troupe';
import { PostgresStore, type PostgresStoreOptions } from 'troupe/postgres';
import { createApp } from 'troupe/server';
import { createFakeServices } from 'troupe/testing';
import { runScenario } from 'troupe/testing/fixtures';

export const config = new ConfigurationService(new MemoryStore());
export const open = (url: string, opts: PostgresStoreOptions): Promise<PostgresStore> =>
  PostgresStore.connect(url, opts);
export const embedded = (dir: string): Promise<PostgresStore> => PostgresStore.pglite(dir);
export const used = [createApp, createFakeServices, runScenario];
`;

/** A strict project that checks the declaration files of its packages too. */
const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    noEmit: true,
  },
  files: ['index.ts'],
};

/** Every declaration file under dir. */
async function declarations(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith('.d.ts')) out.push(join(e.parentPath, e.name));
  return out;
}

describe('a user with pg but none of its types, and no PGlite', () => {
  let project: FreshProject;
  beforeAll(async () => {
    // Node's own types stay: troupe is a Node library, and its dependencies' types use Node's globals.
    project = await freshProject([
      `pg@${await repoVersion('pg')}`,
      `@types/node@${await repoVersion('@types/node')}`,
    ]);
    await project.write('tsconfig.json', `${JSON.stringify(tsconfig, null, 2)}\n`);
    await project.write('index.ts', userCode);
  }, 180_000);
  afterAll(() => project?.remove());

  it('has pg installed, and neither PGlite nor any optional peer’s types', () => {
    expect(optional.sort()).toEqual(['@electric-sql/pglite', 'pg']);
    const installed = (name: string) => existsSync(join(project.dir, 'node_modules', name, 'package.json'));
    expect(installed('pg')).toBe(true);
    expect(installed('troupe')).toBe(true);
    expect(['@electric-sql/pglite', ...optional.map(typesOf)].filter(installed)).toEqual([]);
  });

  it('type-checks code importing troupe, troupe/postgres, troupe/server and troupe/testing, with skipLibCheck off', async () => {
    expect(await project.typecheck()).toEqual({ status: 0, output: '' });
  }, 120_000);

  it('gets no declaration file from troupe that imports an optional peer', async () => {
    const dist = join(project.dir, 'node_modules', 'troupe', 'dist');
    const peer = new RegExp(
      `(?:from|import\\()\\s*['"](${optional.map((n) => n.replace(/[/.]/g, '\\$&')).join('|')})(?:/[^'"]*)?['"]`,
    );
    const naming: string[] = [];
    for (const file of await declarations(dist)) {
      const m = (await readFile(file, 'utf8')).match(peer);
      if (m) naming.push(`${relative(dist, file)} imports ${m[1]}`);
    }
    expect(naming).toEqual([]);
  });
});
