import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestEnvironment, pendingTempDirs, withTestEnvironment } from './environment.js';

describe('createTestEnvironment', () => {
  it('gives a virtual clock at start and a random that repeats for the same seed', async () => {
    const a = createTestEnvironment({ seed: 42, start: 1000 });
    const b = createTestEnvironment({ seed: 42 });
    const c = createTestEnvironment({ seed: 43 });
    expect(a.clock.now()).toBe(1000);
    expect(b.clock.now()).toBe(0);
    const seq = (r: { next(): number }) => [r.next(), r.next(), r.next()];
    const first = seq(a.random);
    expect(seq(b.random)).toEqual(first);
    expect(seq(c.random)).not.toEqual(first);
    await a.clock.advance(500);
    expect(a.clock.now()).toBe(1500);
  });

  it('makes temp dirs under the OS temp dir and removes them on cleanup', async () => {
    const env = createTestEnvironment();
    const one = await env.tempDir();
    const two = await env.tempDir('cast-');
    await writeFile(join(two, 'agent.json'), '{}');
    expect(dirname(one)).toBe(tmpdir());
    expect(basename(one)).toMatch(/^troupe-test-/);
    expect(basename(two)).toMatch(/^cast-/);
    expect(existsSync(join(two, 'agent.json'))).toBe(true);
    expect(pendingTempDirs()).toEqual(expect.arrayContaining([one, two]));
    await env.cleanup();
    expect(existsSync(one)).toBe(false);
    expect(existsSync(two)).toBe(false);
    expect(pendingTempDirs()).not.toContain(one);
    await env.cleanup();
    await expect(env.tempDir('../escape-')).rejects.toThrow(/path separator/);
  });
});

describe('withTestEnvironment', () => {
  it('cleans up after fn returns, and returns its value', async () => {
    let dir = '';
    const value = await withTestEnvironment(async (env) => {
      dir = await env.tempDir();
      return 7;
    });
    expect(value).toBe(7);
    expect(dir).not.toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  it('cleans up when fn throws, and rethrows', async () => {
    let dir = '';
    await expect(
      withTestEnvironment(async (env) => {
        dir = await env.tempDir();
        throw new Error('scenario failed');
      }),
    ).rejects.toThrow('scenario failed');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('temp dirs left behind', () => {
  it('are removed when the process exits without cleanup', () => {
    const module = pathToFileURL(join(import.meta.dirname, 'environment.ts')).href;
    const script = `
      const { createTestEnvironment } = await import(${JSON.stringify(module)});
      const env = createTestEnvironment();
      const dir = await env.tempDir('exit-');
      process.stdout.write(dir);
      process.exit(3);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status).toBe(3);
    const dir = child.stdout.trim();
    expect(basename(dir)).toMatch(/^exit-/);
    expect(existsSync(dir)).toBe(false);
  });
});
