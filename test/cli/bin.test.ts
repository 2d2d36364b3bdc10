import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS, tempDir } from './helpers.js';

// dist/ is built once for every test file by test/global-build.ts.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/troupe.js', import.meta.url));

const troupe = (args: string[], cwd = repo) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TROUPE_HOME: '' },
  });

describe('bin/troupe.js', () => {
  it('--help exits 0 and lists the commands', () => {
    const r = troupe(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) {
      expect(r.stdout).toContain(`  ${c}`);
    }
  });

  it('sets the exit code: 2 for usage, 1 for a failed operation, 0 for success', async () => {
    const dir = await tempDir();
    expect(troupe(['--nope']).status).toBe(2);
    expect(troupe(['--dir', dir, 'validate']).status).toBe(1);
    expect(troupe(['--dir', dir, 'init']).status).toBe(0);
    const v = troupe(['--dir', dir, 'validate', '--json']);
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual({ valid: true, problems: [] });
  });

  it("a library's process warning is one of the command's warnings: under --json, carried in the error's JSON", () => {
    // pg warns about `sslmode=require` as it reads the URL; nothing listens on port 1.
    const r = troupe(['agent', 'list', '--json', '--store', 'postgres://u:p@127.0.0.1:1/db?sslmode=require']);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain('(node:');
    const printed = JSON.parse(r.stderr) as { error: { code: string }; warnings: Array<{ message: string }> };
    expect(printed.error.code).toBe('TRANSIENT');
    expect(printed.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^SECURITY WARNING: The SSL modes .* are treated as aliases for 'verify-full'\.$/,
      ),
    ]);
    // Without --json, one line of its own.
    const text = troupe(['agent', 'list', '--store', 'postgres://u:p@127.0.0.1:1/db?sslmode=require']);
    expect(text.stderr.split('\n')[0]).toMatch(/^warning: SECURITY WARNING: The SSL modes /);
  });
});
