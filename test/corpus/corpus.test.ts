import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../cli/helpers.js';
import { stat } from '../stats.js';
import { CASES } from './cases.js';

/** Every file under `dir` but the run logs, with its bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if (!path.includes(join('.troupe', 'runs'))) out.set(path, (await readFile(path)).toString('base64'));
  }
  return out;
}

async function everything(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name), 'utf8'));
  return parts.join('\n');
}

describe('the bad-input corpus', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { root, dir, t } = await seeded();
    for (const [name, content] of Object.entries(c.files ?? {})) {
      await mkdir(dirname(join(root, name)), { recursive: true });
      await writeFile(join(root, name), content);
    }
    const before = await snapshot(dir);
    for (const json of [false, true]) {
      const r = await t(...c.args, ...(json ? ['--json'] : []));
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(c.code);
      if (!json) expect(r.stderr).toMatch(c.says);
      else if (c.code === 2) expect(r.error().code).toBe('USAGE');
      else expect(r.error().code).not.toBe('USAGE');
      if (c.secret) expect(r.stdout + r.stderr).not.toContain(c.secret);
    }
    expect(await snapshot(dir)).toEqual(before);
    if (c.secret) expect(await everything(dir)).not.toContain(c.secret);
    stat('bad-input corpus', 'cases', 1);
    stat('bad-input corpus', 'runs (text and --json)', 2);
  });
});
