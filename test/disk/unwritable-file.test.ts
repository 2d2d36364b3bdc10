import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../cli/helpers.js';

const exec = promisify(execFile);
const locked: string[] = [];
afterEach(async () => {
  await Promise.all(locked.splice(0).map((f) => exec('chattr', ['-i', f]).catch(() => undefined)));
});

/** Why a file cannot be made immutable here (chattr +i needs root and a file system that has it). */
async function immutableUnavailable(dir: string): Promise<string | undefined> {
  const probe = join(dir, 'probe');
  await writeFile(probe, '');
  try {
    await exec('chattr', ['+i', probe]);
    await exec('chattr', ['-i', probe]);
    return undefined;
  } catch (e) {
    return `cannot make a file immutable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
}

describe('a file troupe cannot replace (immutable, or on a read-only mount)', () => {
  it('a change it stops is reported as committed but not written out, every command says so, and once the file can be written it is undone', async () => {
    const root = await tempDir();
    const why = await immutableUnavailable(root);
    // biome-ignore lint/suspicious/noConsole: a test that needs root prints why it is skipped
    if (why) return console.warn(`unwritable-file test skipped: ${why}`);
    const dir = join(root, 'cfg');
    const t = cli(dir, root);
    await t('init');
    await t('personality', 'create', '--preset', 'calm-analyst', '--id', 'calm', '--name', 'Calm');
    for (const id of ['a1', 'a2'])
      await t(
        'agent',
        'create',
        '--id',
        id,
        '--name',
        id,
        '--personality',
        'calm',
        '--role',
        'analyst',
        '--model',
        'claude-sonnet-4',
      );
    const description = async () =>
      (JSON.parse(await readFile(join(dir, 'personalities/calm.json'), 'utf8')) as { description: string })
        .description;
    const before = await description();
    const stuck = join(dir, 'agents/a2.json');
    await exec('chattr', ['+i', stuck]);
    locked.push(stuck);
    const update = await t('personality', 'update', 'calm', '--description', 'never acknowledged');
    expect(update.code).toBe(1);
    expect(update.stderr).toContain('a committed change could not be written to the files of');
    expect(update.stderr).toContain('make that file writable, or free some space');
    const validate = await t('validate');
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain('every command finishes it before anything else');
    await exec('chattr', ['-i', stuck]);
    const after = await t('validate');
    expect(after.code, after.stderr).toBe(0);
    expect(await description()).toBe(before); // undone: it was never acknowledged
  });
});
