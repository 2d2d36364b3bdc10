import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_WORKFLOWS } from '../../src/configuration/workflows.js';
import { cli, run, tempDir } from './helpers.js';

describe('conventions a kubectl or gh user expects', () => {
  it('a bare `troupe` prints the help on stdout and exits 0', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: troupe [options] [command]');
    expect(r.stdout).toContain('searching upward from the working directory');
    expect(r.stderr).toBe('');
  });

  it('under --json, no command (or a group with none after it) is a JSON usage error on stderr, exit 2', async () => {
    for (const args of [['--json'], ['personality', '--json'], ['--json', 'workflow']]) {
      const r = await run(args);
      expect([args.join(' '), r.code, r.stdout]).toEqual([args.join(' '), 2, '']);
      expect(r.error().code).toBe('USAGE');
    }
    // Without --json, a group alone still prints its help (on stderr: it is not what was asked).
    const plain = await run(['personality']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('Usage: troupe personality');
  });

  it('workflow list and show --json write every moment as ISO 8601', async () => {
    const root = await tempDir();
    const t = cli(`${root}/cfg`, root);
    await t('init');
    await t('personality', 'create', '--preset', 'calm-analyst');
    const runs = (await t('workflow', 'list', '--json')).json<Array<Record<string, unknown>>>();
    expect(runs).toHaveLength(1);
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(runs[0]!.createdAt).toMatch(iso);
    expect(runs[0]!.updatedAt).toMatch(iso);
    const shown = (await t('workflow', 'show', String(runs[0]!.runId), '--json')).stdout;
    expect(shown).not.toMatch(/"(at|createdAt|updatedAt|startedAt|completedAt)": \d/);
    expect(shown).toMatch(/"at": "\d{4}-/);
  });

  it('every built-in workflow has a description, and `workflow builtins` prints it', async () => {
    const r = await run(['workflow', 'builtins']);
    for (const w of BUILT_IN_WORKFLOWS) {
      expect(w.description, w.id).toBeTruthy();
      expect(r.stdout).toContain(`${w.id}: ${w.description}`);
    }
  });

  it('completion bash completes commands, subcommands and options in a real bash', async () => {
    const file = join(await tempDir(), 'troupe.bash');
    await writeFile(file, (await run(['completion', 'bash'])).stdout);
    const complete = (...words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source '${file}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _troupe; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete('troupe', 'pers')).toBe('personality');
    expect(complete('troupe', '--dir', 'x', 'personality', '').split(' ')).toEqual(
      expect.arrayContaining(['create', 'list', 'show', 'update', 'delete', '--dir', '--json']),
    );
    expect(complete('troupe', 'personality', 'create', '--pr')).toBe('--preset');
    expect(complete('troupe', 'workflow', 're')).toBe('resume recover');
  });

  it('completion zsh and fish print scripts for those shells; another shell is a usage error', async () => {
    const zsh = await run(['completion', 'zsh']);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await run(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c troupe -n '__fish_use_subcommand' -a 'init personality");
    expect(fish.stdout).toContain('complete -c troupe -l dir -r');
    const other = await run(['completion', 'tcsh']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});
