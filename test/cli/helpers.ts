import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
  /** stderr parsed as JSON: `{ error }` for --json runs that fail. */
  error(): {
    code: string;
    message: string;
    issues?: Array<{ path: string; message: string; file?: string }>;
  };
}

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'troupe-cli-'));
  made.push(d);
  return d;
}

/** Runs the CLI in-process with captured output; the environment is empty unless given. */
export async function run(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; isTTY?: boolean; rows?: number } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: opts.env ?? {},
    cwd: opts.cwd ?? tmpdir(),
    isTTY: opts.isTTY ?? false,
    ...(opts.rows === undefined ? {} : { rows: opts.rows }),
  });
  return {
    code,
    stdout,
    stderr,
    json: <T>() => JSON.parse(stdout) as T,
    error: () => (JSON.parse(stderr) as { error: ReturnType<RunResult['error']> }).error,
  };
}

/**
 * A CLI bound to one config directory: `t('personality', 'list')` runs `troupe --dir DIR personality list`
 * (as on a terminal when isTTY).
 */
export function cli(dir: string, cwd = dir, isTTY = false): Cli {
  return (...args: string[]) => run(['--dir', dir, ...args], { cwd, isTTY });
}
export type Cli = (...args: string[]) => Promise<RunResult>;

/** A temporary root with an initialised config directory `cfg` in it, and a CLI bound to it. */
export async function initialised() {
  const root = await tempDir();
  const dir = join(root, 'cfg');
  const t = cli(dir, root);
  await t('init');
  return { root, dir, t };
}

/** The top-level commands `troupe --help` lists. */
export const COMMANDS = [
  'init',
  'personality',
  'role',
  'agent',
  'models',
  'validate',
  'reconcile',
  'export',
  'import',
  'apply',
  'diff',
  'edit',
  'workflow',
  'schema',
  'completion',
];

/** Workflow run logs: every run is recorded, failed ones too, so they are not part of "what changed". */
const RUN_LOGS = /(^|\/)\.troupe\/runs$/;

/**
 * Every file under dir (and every directory, as `path/`) with its exact bytes, for
 * before/after comparison; the workflow run logs in `.troupe/runs/` are left out.
 */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (RUN_LOGS.test(p)) continue;
      if (e.isDirectory()) {
        out[`${p}/`] = '';
        await walk(p);
      } else {
        out[p] = (await readFile(join(dir, p))).toString('base64');
      }
    }
  };
  await walk('');
  return out;
}

export const write = (dir: string, name: string, text: string) => writeFile(join(dir, name), text);

/** Edits a stored agent by hand so it looks composed against an older personality: a stale agent. */
export async function makeStale(dir: string, agentId: string): Promise<void> {
  const file = join(dir, 'agents', `${agentId}.json`);
  const agent = JSON.parse(await readFile(file, 'utf8')) as { personalityVersion: number };
  agent.personalityVersion = 0;
  await writeFile(file, `${JSON.stringify(agent, null, 2)}\n`);
}

export const calmYaml = `# a personality written by hand
id: calm
name: Calm
bigFive:
  openness: 60
  conscientiousness: 80
  extraversion: 30
  agreeableness: 60
  neuroticism: 10
behaviors:
  humor: 20
`;

/** An initialised directory with personality calm, role reviewer and agents ada (anthropic) and otto (openai). */
export async function seeded() {
  const root = await tempDir();
  const dir = join(root, 'config');
  const t = cli(dir, root);
  const must = async (...args: string[]) => {
    const r = await t(...args);
    if (r.code !== 0) throw new Error(`troupe ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  await must('init');
  await write(root, 'calm.yaml', calmYaml);
  await must('personality', 'create', '--from', 'calm.yaml');
  await must(
    'role',
    'create',
    '--name',
    'Reviewer',
    '--system-prompt',
    'You review code carefully.',
    '--capability',
    'code-review',
  );
  await must(
    'agent',
    'create',
    '--name',
    'Ada',
    '--personality',
    'calm',
    '--role',
    'reviewer',
    '--model',
    'claude-sonnet-4',
    '--temperature',
    '0.3',
    '--api-key-env',
    'ANTHROPIC_API_KEY',
  );
  await must(
    'agent',
    'create',
    '--name',
    'Otto',
    '--personality',
    'calm',
    '--role',
    'reviewer',
    '--provider',
    'openai',
    '--model',
    'gpt-4o',
    '--api-key-env',
    'OPENAI_API_KEY',
  );
  return { root, dir, t };
}

/**
 * The warnings a command printed under --json: stderr holds one JSON object, `{ warnings }`
 * after a success, `{ error, warnings }` after a failure (none: no warnings).
 */
export function warningsIn(stderr: string): string[] {
  if (stderr === '') return [];
  const printed = JSON.parse(stderr) as { warnings?: Array<{ message: string }> };
  return (printed.warnings ?? []).map((w) => w.message);
}
