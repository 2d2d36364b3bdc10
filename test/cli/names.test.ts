import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { initialised, snapshot } from './helpers.js';

describe('names from every script', () => {
  it('a name is transliterated into its id: Straße Æsir → strasse-aesir, Привет мир → privet-mir', async () => {
    const { t } = await initialised();
    const a = await t('personality', 'create', '--preset', 'calm-analyst', '--name', 'Straße Æsir', '--json');
    expect(a.json()).toMatchObject({ id: 'strasse-aesir', name: 'Straße Æsir' });
    const b = await t('personality', 'create', '--preset', 'calm-analyst', '--name', 'Привет мир', '--json');
    expect(b.json()).toMatchObject({ id: 'privet-mir' });
  });

  it('a name no id can be made from asks for --id by name, and writes nothing', async () => {
    const { t, dir } = await initialised();
    const before = await snapshot(dir);
    const r = await t('personality', 'create', '--preset', 'calm-analyst', '--name', '日本語の性格');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no id can be made from the name "日本語の性格"');
    expect(r.stderr).toContain('--id');
    expect(r.stderr).not.toMatch(/Invalid input|undefined/);
    expect(await snapshot(dir)).toEqual(before);
    const ok = await t(
      'personality',
      'create',
      '--preset',
      'calm-analyst',
      '--name',
      '日本語の性格',
      '--id',
      'nihongo',
    );
    expect(ok.code).toBe(0);
  });

  it('tables stay aligned with CJK and emoji: every column starts at the same display column', async () => {
    const { t } = await initialised();
    for (const [name, id] of [
      ['日本語の性格', 'nihongo'],
      ['😀 Emoji Pal', 'emoji'],
      ['Plain', 'plain'],
    ])
      await t('personality', 'create', '--preset', 'calm-analyst', '--name', name!, '--id', id!);
    const lines = (await t('personality', 'list')).stdout.trimEnd().split('\n');
    const revisionAt = (line: string) => stringWidth(line.slice(0, line.search(/\S+$/)));
    const at = new Set(lines.map(revisionAt));
    expect(lines).toHaveLength(4);
    expect(at.size, lines.join('\n')).toBe(1);
  });
});
