import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { PostgresStore } from '../../src/postgres/store.js';
import {
  dropSchema,
  freshSchema,
  inSchema,
  TEST_POSTGRES_URL,
} from '../../src/postgres/test-db.test-helper.js';
import { FileStore } from '../../src/storage/file/store.js';
import type { Kind, Store } from '../../src/storage/store.js';

export const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A cast in PostgreSQL is named by its URL; any other name is a directory. */
const inDatabase = (where: string) => where.startsWith('postgres://');

/** Runs `troupe --dir DIR …` (or `--store URL …`) as a real process (the compiled CLI); resolves when it exits. */
export function troupe(where: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return spawned(process.execPath, [bin, inDatabase(where) ? '--store' : '--dir', where, ...args], env).exit;
}

/** The store a cast lives in, opened in this process. */
async function openCast(where: string): Promise<Store> {
  return inDatabase(where) ? PostgresStore.connect(where, { poolSize: 2 }) : FileStore.open(where);
}

/** Runs a TypeScript child of this folder through tsx. */
export function child(script: string, args: string[]): Promise<Exit> {
  return started(script, args).exit;
}

/** Like child, with a way to SIGKILL it mid-run. */
export function started(script: string, args: string[]): Spawned {
  return spawned(process.execPath, [
    '--import',
    'tsx',
    fileURLToPath(new URL(script, import.meta.url)),
    ...args,
  ]);
}

export interface Spawned {
  exit: Promise<Exit>;
  pid: number | undefined;
  kill: () => void;
  /** Sends it a signal (SIGTERM: a graceful stop). */
  signal: (s: NodeJS.Signals) => void;
  /** What it has printed on stdout so far. */
  stdout: () => string;
}

/** A process with its output gathered: what it printed so far, and how it ended. */
export function spawned(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Spawned {
  const p = spawn(cmd, args, {
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TROUPE_HOME: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<Exit>((resolve, reject) => {
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { exit, pid: p.pid, kill: () => p.kill('SIGKILL'), signal: (s) => p.kill(s), stdout: () => stdout };
}

const dirs: string[] = [];
const schemas: Array<{ schema: string; server: string }> = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await Promise.all(schemas.splice(0).map((s) => dropSchema(s.schema, s.server)));
});

export const BIG_FIVE = {
  openness: 60,
  conscientiousness: 80,
  extraversion: 30,
  agreeableness: 60,
  neuroticism: 10,
};

/**
 * A cast with personality `hub` (and `spare`), role `reviewer` and `agents` agents using hub:
 * in a fresh directory, or (`engine: 'postgres'`) in a fresh schema of the test database.
 */
export async function castDir(
  agents = 3,
  engine: 'file' | 'postgres' = 'file',
  /** The server a PostgreSQL cast is made on (default: the tests' own). */
  server = TEST_POSTGRES_URL,
): Promise<string> {
  let where: string;
  let store: Store;
  if (engine === 'postgres') {
    const schema = freshSchema();
    schemas.push({ schema, server });
    where = inSchema(schema, server);
    store = await PostgresStore.connect(where, { poolSize: 2 });
  } else {
    where = await mkdtemp(join(tmpdir(), 'troupe-race-'));
    dirs.push(where);
    store = await FileStore.init(where);
  }
  const dir = where;
  const config = new ConfigurationService(store);
  await config.createPersonality({ id: 'hub', name: 'Hub', bigFive: BIG_FIVE, behaviors: { humor: 50 } });
  await config.createPersonality({ id: 'spare', name: 'Spare', bigFive: BIG_FIVE });
  await config.createRole({ id: 'reviewer', name: 'Reviewer', systemPrompt: 'You review code carefully.' });
  for (let i = 0; i < agents; i++)
    await config.createAgent({
      agent: {
        id: `a${i}`,
        name: `A${i}`,
        personalityId: 'hub',
        roleId: 'reviewer',
        model: { provider: 'openai', modelId: 'gpt-4o', temperature: 0.5 },
      },
    });
  await store.close();
  return dir;
}

export type Doc = Record<string, unknown> & { revision: number };

/** A stored document by its file name (`personalities/hub.json`), from the directory or the database. */
export async function readDoc(dir: string, file: string): Promise<Doc | undefined> {
  if (inDatabase(dir)) {
    const [kind, name] = file.split('/') as [Kind, string];
    const store = await openCast(dir);
    try {
      return (await store.get(kind, name.replace(/\.json$/, ''))) as Doc | undefined;
    } finally {
      await store.close();
    }
  }
  try {
    return JSON.parse(await readFile(join(dir, file), 'utf8')) as Doc;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Every file of the directory's entity folders with its text: "changed nothing" is checked against it. */
export async function snapshotDir(dir: string): Promise<Map<string, string>> {
  const { readdir } = await import('node:fs/promises');
  const out = new Map<string, string>();
  for (const k of ['personalities', 'roles', 'agents', 'models', 'resolved']) {
    for (const f of (await readdir(join(dir, k)).catch(() => [] as string[])).sort())
      out.set(`${k}/${f}`, await readFile(join(dir, k, f), 'utf8'));
  }
  return out;
}

/** Opens the directory in this process and lists what is inconsistent (empty when all is well). */
export async function inconsistencies(dir: string): Promise<string[]> {
  const store = await openCast(dir);
  try {
    return (await new ConfigurationService(store).detectInconsistencies()).map((i) => i.message);
  } finally {
    await store.close();
  }
}
