import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../orchestration/clock.js';
import { type Random, seededRandom } from '../orchestration/random.js';

export interface TestEnvironmentOptions {
  /** Seed of `random`; the same seed gives the same jitter. Default 1. */
  seed?: number;
  /** Virtual start time in ms. Default 0. */
  start?: number;
}

/** A virtual clock, a seeded random and temporary directories that `cleanup` removes. */
export interface TestEnvironment {
  clock: VirtualClock;
  random: Random;
  seed: number;
  /** A new empty directory under the OS temp dir, removed by `cleanup` (or at process exit). */
  tempDir(prefix?: string): Promise<string>;
  /** Remove every temp dir made so far; safe to call more than once. */
  cleanup(): Promise<void>;
}

// Directories not cleaned up yet, across environments, for the exit handler.
const pending = new Set<string>();
let exitHookInstalled = false;

function removeLeftovers(): void {
  for (const dir of pending) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: the process is exiting and nothing can be reported.
    }
  }
  pending.clear();
}

function track(dir: string): void {
  pending.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removeLeftovers);
  }
}

/**
 * The directories made by test environments and not yet removed (for tests of the kit).
 *
 * @example
 * ```ts
 * await withTestEnvironment((env) => env.tempDir());
 * pendingTempDirs(); // []: the environment removed its directory
 * ```
 */
export function pendingTempDirs(): string[] {
  return [...pending];
}

/**
 * A fresh environment: virtual clock at `start`, `seededRandom(seed)`, tracked temp dirs.
 * Call `cleanup` when done (`withTestEnvironment` does it for you).
 *
 * @example
 * ```ts
 * const env = createTestEnvironment({ seed: 42 });
 * const store = await FileStore.init(join(await env.tempDir(), 'config'));
 * // ... the test ...
 * await store.close();
 * await env.cleanup();
 * ```
 */
export function createTestEnvironment(opts: TestEnvironmentOptions = {}): TestEnvironment {
  const seed = opts.seed ?? 1;
  const clock = new VirtualClock({ start: opts.start ?? 0 });
  const dirs: string[] = [];
  return {
    clock,
    random: seededRandom(seed),
    seed,
    async tempDir(prefix = 'troupe-test-') {
      if (/[/\\]/.test(prefix))
        throw new Error(`tempDir prefix must not contain a path separator: ${prefix}`);
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      track(dir);
      return dir;
    },
    async cleanup() {
      const errors: unknown[] = [];
      for (const dir of dirs.splice(0)) {
        try {
          await rm(dir, { recursive: true, force: true });
          pending.delete(dir);
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0)
        throw new AggregateError(errors, `could not remove ${errors.length} temp dir(s)`);
    },
  };
}

/**
 * Runs `fn` in a fresh environment and always cleans up afterwards, whatever `fn` does.
 *
 * @example
 * ```ts
 * await withTestEnvironment(async (env) => {
 *   const dir = await env.tempDir('troupe-apply-');
 *   await writeFile(join(dir, 'cast.json'), JSON.stringify(bundle));
 * }); // the directory is removed here, even if the function threw
 * ```
 */
export async function withTestEnvironment<T>(
  fn: (env: TestEnvironment) => T | Promise<T>,
  opts: TestEnvironmentOptions = {},
): Promise<T> {
  const env = createTestEnvironment(opts);
  try {
    return await fn(env);
  } finally {
    await env.cleanup();
  }
}
