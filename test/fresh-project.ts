import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository: its package is what gets packed, its TypeScript what type-checks. */
export const repo = resolve(import.meta.dirname, '..');

/** The version of a package installed in the repository (a devDependency), so npm finds it in its cache. */
export async function repoVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(repo, 'node_modules', name, 'package.json'), 'utf8'));
  return (manifest as { version: string }).version;
}

/** A project of a user of troupe, in a temporary directory of its own. */
export interface FreshProject {
  dir: string;
  /** Writes a file of the project. */
  write(file: string, text: string): Promise<void>;
  /** Type-checks the project with the repository's TypeScript: its exit status and what it printed. */
  typecheck(): Promise<{ status: number; output: string }>;
  remove(): Promise<void>;
}

/**
 * Packs troupe as it is published (`npm pack` of the built dist/, without running the build
 * again) and installs the tarball into an empty ESM project with `packages` beside it, as a
 * user would: npm's own choice of what else to install (an optional peer is not installed).
 * No install script runs; npm takes what its cache holds before it asks the registry.
 */
export async function freshProject(packages: string[]): Promise<FreshProject> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-user-'));
  try {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: repo,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    if (!packed) throw new Error(`npm pack printed no tarball:\n${stdout}`);
    await writeFile(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'troupe-user', private: true, type: 'module' }, null, 2)}\n`,
    );
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        join(dir, packed.filename),
        ...packages,
      ],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    write: (file, text) => writeFile(join(dir, file), text),
    async typecheck() {
      const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
      try {
        const { stdout, stderr } = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir });
        return { status: 0, output: `${stdout}${stderr}` };
      } catch (e) {
        const failed = e as { code?: unknown; stdout?: string; stderr?: string };
        if (typeof failed.code !== 'number') throw e;
        return { status: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
