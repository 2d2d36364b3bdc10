import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, run, snapshot, tempDir } from './helpers.js';

/**
 * An $EDITOR that plays a person: on its n-th opening it records what it was shown and
 * replaces `from` with `to` in the file (or leaves it as it is when there is no step n).
 */
async function scriptedEditor(steps: Array<{ from: string; to: string }>) {
  const at = await tempDir();
  const script = join(at, 'editor.mjs');
  await writeFile(join(at, 'steps.json'), JSON.stringify(steps));
  await writeFile(
    script,
    `import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const dir = ${JSON.stringify(at)};
const n = existsSync(dir + '/count') ? Number(readFileSync(dir + '/count', 'utf8')) : 0;
writeFileSync(dir + '/count', String(n + 1));
const file = process.argv[2];
const text = readFileSync(file, 'utf8');
writeFileSync(dir + '/seen-' + n, text);
const step = JSON.parse(readFileSync(dir + '/steps.json', 'utf8'))[n];
if (step) writeFileSync(file, text.replace(new RegExp(step.from, 'm'), step.to));
`,
  );
  return {
    env: { PATH: process.env.PATH, EDITOR: `${process.execPath} ${script}` },
    seen: (n: number) => readFile(join(at, `seen-${n}`), 'utf8'),
  };
}

async function setup() {
  const root = await tempDir();
  const dir = join(root, 'cfg');
  await run(['--dir', dir, 'init'], { cwd: root });
  await run(['--dir', dir, 'personality', 'create', '--preset', 'calm-analyst'], { cwd: root });
  return { root, dir, t: cli(dir, root) };
}

describe('troupe edit KIND ID, as kubectl edit', () => {
  it('reopens with the error while the content is invalid, writes nothing until it is valid', async () => {
    const { root, dir } = await setup();
    const ed = await scriptedEditor([
      { from: '^  openness: \\d+', to: '  openness: 500' },
      { from: '^  openness: 500', to: '  openness: 61' },
    ]);
    const r = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: ed.env,
      isTTY: true,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Edited personality calm-analyst: bigFive changed (revision 2)');
    expect(await ed.seen(0)).toContain('# Edit personality calm-analyst (revision 1)');
    const second = await ed.seen(1);
    expect(second).toMatch(/# error: .*bigFive\.openness/);
    expect(second).toContain('openness: 500'); // the user's edit, kept for fixing
    const stored = JSON.parse(await readFile(join(dir, 'personalities', 'calm-analyst.json'), 'utf8'));
    expect(stored).toMatchObject({ revision: 2, bigFive: { openness: 61 } });
  });

  it('no one reopens forever: without a terminal it is given up at the first error, with one after 10 tries', async () => {
    const { root, dir } = await setup();
    const before = await snapshot(dir);
    // An editor run by a script, making a new mistake each time it is opened.
    const steps = Array.from({ length: 30 }, (_, i) => ({
      from: '^  openness: \\d+',
      to: `  openness: ${500 + i}`,
    }));
    const script = await scriptedEditor(steps);
    const piped = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst', '--json'], {
      cwd: root,
      env: script.env,
    });
    expect(piped.code).toBe(1);
    expect(piped.error().message).toMatch(
      /^edit of personality calm-analyst abandoned after 1 try \(no terminal: it is not reopened\): .*bigFive\.openness.*; nothing written$/s,
    );
    await expect(script.seen(1)).rejects.toThrow(); // opened once
    const person = await scriptedEditor(steps);
    const typed = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: person.env,
      isTTY: true,
    });
    expect(typed.code).toBe(1);
    expect(typed.stderr).toContain('abandoned after 10 tries');
    expect(await person.seen(9)).toContain('openness: 508');
    await expect(person.seen(10)).rejects.toThrow();
    expect(await snapshot(dir)).toEqual(before);
  });

  it('an edit left as it was changes nothing; an edit saved again with its error is abandoned', async () => {
    const { root, dir } = await setup();
    const before = await snapshot(dir);
    const none = await scriptedEditor([]);
    const r = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], { cwd: root, env: none.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Edit cancelled');
    const stubborn = await scriptedEditor([{ from: '^  openness: \\d+', to: '  openness: 500' }]);
    const s = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: stubborn.env,
      isTTY: true,
    });
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('abandoned');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a prototype key is refused, never dropped; an edit of store metadata alone writes nothing and says so', async () => {
    const { root, dir } = await setup();
    const before = await snapshot(dir);
    const proto = await scriptedEditor([{ from: '^name: (.*)$', to: 'name: $1\n__proto__:\n  name: Evil' }]);
    const p = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: proto.env,
      isTTY: true,
    });
    expect(await proto.seen(1)).toContain('# error: __proto__: "__proto__" is not allowed as a key');
    expect(p.code).toBe(1);
    expect(p.stdout).not.toContain('Edited');
    const meta = await scriptedEditor([{ from: '^name: (.*)$', to: 'name: $1\ncommit: 0123abcd' }]);
    const m = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst', '--json'], {
      cwd: root,
      env: meta.env,
      isTTY: true,
    });
    expect(m.code, m.stderr).toBe(0);
    expect(m.json()).toEqual({ kind: 'personality', id: 'calm-analyst', changed: false, revision: 1 });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('removing a field removes it; a change by someone else meanwhile is a conflict, not a lost update', async () => {
    const { root, dir } = await setup();
    const ed = await scriptedEditor([{ from: '^description: .*\\n(  .*\\n)*', to: '' }]);
    const r = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: ed.env,
      isTTY: true,
    });
    expect(r.code, r.stderr).toBe(0);
    const stored = JSON.parse(await readFile(join(dir, 'personalities', 'calm-analyst.json'), 'utf8'));
    expect(stored).not.toHaveProperty('description');
    // The editor's "person" is slow: another command updates the personality while it is open.
    const at = await tempDir();
    const script = join(at, 'racing.mjs');
    await writeFile(
      script,
      `import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
execFileSync(${JSON.stringify(process.execPath)}, [${JSON.stringify(join(process.cwd(), 'bin', 'troupe.js'))}, '--dir', ${JSON.stringify(dir)}, 'personality', 'update', 'calm-analyst', '--name', 'Theirs']);
const f = process.argv[2];
writeFileSync(f, readFileSync(f, 'utf8').replace(/^name: .*$/m, 'name: Mine'));
`,
    );
    const race = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: { PATH: process.env.PATH, EDITOR: `${process.execPath} ${script}` },
    });
    expect(race.code).toBe(1);
    expect(race.stderr).toMatch(/expected revision 2, found 3/);
    expect(JSON.parse(await readFile(join(dir, 'personalities', 'calm-analyst.json'), 'utf8')).name).toBe(
      'Theirs',
    );
  });

  it('a personality or role broken by hand can be deleted: refused while agents use it, cascaded with them, else gone', async () => {
    const { dir, t } = await setup();
    const agent = await t(
      ...'agent create --name Ada --personality calm-analyst --role analyst --model gpt-4o'.split(' '),
    );
    expect(agent.code, agent.stderr).toBe(0);
    const file = join(dir, 'personalities', 'calm-analyst.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/"openness": \d+/, '"openness": "high"'));
    const used = await t('personality', 'delete', 'calm-analyst', '--json');
    expect([used.code, used.error().code]).toEqual([1, 'REFERENCE_IN_USE']);
    expect(await readFile(file, 'utf8')).toContain('"openness": "high"');
    const gone = await t('personality', 'delete', 'calm-analyst', '--cascade');
    expect(gone.code, gone.stderr).toBe(0);
    expect((await t('agent', 'list', '--json')).json()).toEqual([]);
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
    // A role, used by nothing.
    expect(
      (
        await t(
          'role',
          'create',
          '--id',
          'nitpicker',
          '--name',
          'Nitpicker',
          '--system-prompt',
          'Find faults.',
        )
      ).code,
    ).toBe(0);
    const roleFile = join(dir, 'roles', 'nitpicker.json');
    await writeFile(roleFile, (await readFile(roleFile, 'utf8')).replace('"Nitpicker"', '42'));
    expect((await t('role', 'show', 'nitpicker')).code).toBe(1);
    const r = await t('role', 'delete', 'nitpicker');
    expect(r.code, r.stderr).toBe(0);
    expect(await t('validate')).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('a file broken by hand opens as stored with its problem and is replaced once valid, its agents re-composed with it', async () => {
    const { root, dir, t } = await setup();
    const agent = await t(
      ...'agent create --name Ada --personality calm-analyst --role analyst --model gpt-4o'.split(' '),
    );
    expect(agent.code, agent.stderr).toBe(0);
    const file = join(dir, 'personalities', 'calm-analyst.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/"openness": \d+/, '"openness": 500'));
    // Refused where it is read, saying how it is mended.
    const del = await t('personality', 'update', 'calm-analyst', '--name', 'Calmer');
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('bigFive.openness: must be an integer 0–100, got 500');
    expect(del.stderr).toContain('`troupe edit personality calm-analyst`');
    const ed = await scriptedEditor([
      { from: '^  openness: 500', to: '  openness: 700' },
      { from: '^  openness: 700', to: '  openness: 44' },
    ]);
    const r = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: ed.env,
      isTTY: true,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Edited personality calm-analyst: bigFive changed (revision 2)');
    const first = await ed.seen(0);
    expect(first).toContain('# error:   bigFive.openness: must be an integer 0–100, got 500');
    expect(first).toContain('  openness: 500'); // as stored, to be mended
    expect(await ed.seen(1)).toContain(
      '# error: calm-analyst: bigFive.openness: must be an integer 0–100, got 700',
    );
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      revision: 2,
      bigFive: { openness: 44 },
    });
    const resolved = JSON.parse(await readFile(join(dir, 'resolved', 'ada.json'), 'utf8'));
    expect(resolved.configuration.personality).toEqual({ id: 'calm-analyst', revision: 2 });
    expect(resolved.configuration.systemPrompt).toContain('openness moderate (44)');
    expect((await t('validate')).code).toBe(0);
  });

  it('a broken file is replaced by apply too; one mended by another meanwhile is a conflict, not overwritten', async () => {
    const { root, dir, t } = await setup();
    const file = join(dir, 'personalities', 'calm-analyst.json');
    const broken = (await readFile(file, 'utf8')).replace(/"openness": \d+/, '"openness": 500');
    await writeFile(file, broken);
    const at = await tempDir();
    const mended = JSON.parse(broken);
    mended.bigFive.openness = 12;
    await writeFile(join(at, 'fix.json'), JSON.stringify({ personalities: [mended] }));
    const dry = await t('apply', '-f', join(at, 'fix.json'), '--dry-run');
    expect(dry.stdout).toContain('bigFive.openness: 500 → 12');
    expect(await readFile(file, 'utf8')).toBe(broken);
    // The editor's "person" is slow: the file is mended by apply while the edit is open.
    const script = join(at, 'racing.mjs');
    await writeFile(
      script,
      `import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
execFileSync(${JSON.stringify(process.execPath)}, [${JSON.stringify(join(process.cwd(), 'bin', 'troupe.js'))}, '--dir', ${JSON.stringify(dir)}, 'apply', '-f', ${JSON.stringify(join(at, 'fix.json'))}]);
const f = process.argv[2];
writeFileSync(f, readFileSync(f, 'utf8').replace(/^  openness: 500$/m, '  openness: 99'));
`,
    );
    const race = await run(['--dir', dir, 'edit', 'personality', 'calm-analyst'], {
      cwd: root,
      env: { PATH: process.env.PATH, EDITOR: `${process.execPath} ${script}` },
    });
    expect(race.code).toBe(1);
    expect(race.stderr).toMatch(/expected revision 1, found 2/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      revision: 2,
      bigFive: { openness: 12 },
    });
  });
});
