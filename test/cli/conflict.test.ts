import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Cli, seeded } from './helpers.js';

interface Updated {
  personality?: { revision: number; bigFive: Record<string, number>; behaviors: Record<string, number> };
  role?: { revision: number; description: string; systemPrompt: string };
  conflicts: Array<{ path: string; theirs: unknown; mine: unknown; resolved: unknown; rule: string }>;
}

/** calm at revision 2 after someone else set openness 70 and humor 40 (we read revision 1). */
async function raced() {
  const s = await seeded();
  const other = await s.t('personality', 'update', 'calm', '--trait', 'openness=70', '--trait', 'humor=40');
  expect(other.code).toBe(0);
  return s;
}

/** `personality update calm` by a writer that read revision 1. */
const updateFromRevision1 = (t: Cli, ...args: string[]) =>
  t('personality', 'update', 'calm', '--expect-revision', '1', ...args);

describe('personality update --on-conflict', () => {
  it('rejects a stale --expect-revision by default', async () => {
    const { t } = await raced();
    const r = await updateFromRevision1(t, '--trait', 'openness=50');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expected revision 1, found 2');
    const explicit = await updateFromRevision1(
      t,
      '--on-conflict',
      'reject',
      '--trait',
      'openness=50',
      '--json',
    );
    expect(explicit.code).toBe(1);
    expect(explicit.error().code).toBe('CONCURRENT_MODIFICATION');
  });

  it.each(['first-write-wins'])(
    '%s from a revision no longer kept refuses, rather than take every field as theirs',
    async (strategy) => {
      const { t, dir } = await seeded();
      for (const v of [61, 62, 63, 64, 65, 66])
        expect((await t('personality', 'update', 'calm', '--trait', `openness=${v}`)).code).toBe(0);
      const before = await readFile(join(dir, 'personalities', 'calm.json'), 'utf8');
      const r = await updateFromRevision1(
        t,
        '--on-conflict',
        strategy,
        '--trait',
        'extraversion=3',
        '--json',
      );
      expect(r.code).toBe(1);
      expect(r.error()).toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
      expect(r.error().message).toContain('revision 1 is no longer kept');
      expect(await readFile(join(dir, 'personalities', 'calm.json'), 'utf8')).toBe(before);
      // last-write-wins needs no base: the field is set, the other writer's openness stays.
      const lww = await updateFromRevision1(
        t,
        '--on-conflict',
        'last-write-wins',
        '--trait',
        'extraversion=3',
        '--json',
      );
      expect(lww.code).toBe(0);
      expect(lww.json<Updated>().personality?.bigFive).toMatchObject({ extraversion: 3, openness: 66 });
    },
  );

  it.each([
    ['last-write-wins', 50],
    ['first-write-wins', 70],
  ])('%s settles the field both changed', async (strategy, openness) => {
    const { t } = await raced();
    const r = await updateFromRevision1(t, '--on-conflict', strategy, '--trait', 'openness=50', '--json');
    expect(r.code).toBe(0);
    const u = r.json<Updated>();
    expect(u.personality?.bigFive.openness).toBe(openness);
    expect(u.personality?.behaviors.humor).toBe(40);
    expect(u.conflicts).toEqual([
      expect.objectContaining({
        path: 'bigFive.openness',
        theirs: 70,
        mine: 50,
        resolved: openness,
        rule: strategy,
      }),
    ]);
  });

  it.each(['last-write-wins', 'first-write-wins', 'field-merge'])(
    '%s refuses a revision not reached yet: it was never read, so there is no conflict to settle',
    async (strategy) => {
      const { t, dir } = await seeded(); // calm at revision 1
      const before = await readFile(join(dir, 'personalities', 'calm.json'), 'utf8');
      const r = await t(
        ...`personality update calm --expect-revision 42 --trait humor=2 --on-conflict ${strategy} --json`.split(
          ' ',
        ),
      );
      expect(r.code).toBe(1);
      expect(r.error()).toMatchObject({
        code: 'CONCURRENT_MODIFICATION',
        message:
          'personality "calm" has not reached revision 42 (expected revision 42, found 1): no conflict to settle; read it again',
      });
      expect(await readFile(join(dir, 'personalities', 'calm.json'), 'utf8')).toBe(before);
    },
  );

  it('field-merge applies a rule per field, and "*=RULE" to the others', async () => {
    const { t } = await raced();
    const r = await updateFromRevision1(
      t,
      '--on-conflict',
      'field-merge',
      '--merge-rule',
      'bigFive.openness=average',
      '--merge-rule',
      '*=max',
      '--trait',
      'openness=50',
      '--trait',
      'humor=10',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Updated personality calm to revision 3');
    expect(r.stdout).toContain('  settled 2 conflicting fields:');
    expect(r.stdout).toContain('    bigFive.openness: theirs 70, mine 50 → 60 (average)');
    expect(r.stdout).toContain('    behaviors.humor: theirs 40, mine 10 → 40 (max)');
    const p = (await t('personality', 'show', 'calm', '--json')).json<NonNullable<Updated['personality']>>();
    expect(p.bigFive.openness).toBe(60);
    expect(p.behaviors.humor).toBe(40);
  });

  it.each([
    {
      name: '--on-conflict without --expect-revision',
      args: ['--on-conflict', 'last-write-wins'],
      message: '--on-conflict needs --expect-revision N',
    },
    {
      name: '--merge-rule without field-merge',
      args: ['--expect-revision', '1', '--merge-rule', 'bigFive.openness=max'],
      message: '--merge-rule needs --on-conflict field-merge',
    },
    {
      name: 'an unknown strategy',
      args: ['--expect-revision', '1', '--on-conflict', 'newest'],
      message: 'Allowed choices are reject, last-write-wins, first-write-wins, field-merge',
    },
    {
      name: 'an unknown rule',
      args: ['--on-conflict', 'field-merge', '--merge-rule', 'bigFive.openness=min'],
      message: 'unknown rule "min"; rules are max, average, first-non-null, last',
    },
    {
      name: 'a rule without a path',
      args: ['--on-conflict', 'field-merge', '--merge-rule', 'max'],
      message: 'expected PATH=RULE',
    },
  ])('$name is a usage error (exit 2)', async ({ args, message }) => {
    const { t } = await seeded();
    const r = await t('personality', 'update', 'calm', ...args, '--trait', 'openness=50');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect((await t('personality', 'show', 'calm', '--json')).json<{ revision: number }>().revision).toBe(1);
  });
});

describe('role update --on-conflict', () => {
  it('settles a concurrent change with the chosen strategy', async () => {
    const { t } = await seeded();
    expect((await t('role', 'update', 'reviewer', '--description', 'theirs')).code).toBe(0);
    const stale = await t('role', 'update', 'reviewer', '--expect-revision', '1', '--description', 'mine');
    expect(stale.code).toBe(1);
    const r = await t(
      'role',
      'update',
      'reviewer',
      '--expect-revision',
      '1',
      '--on-conflict',
      'first-write-wins',
      '--description',
      'mine',
      '--system-prompt',
      'You review code and tests.',
      '--json',
    );
    expect(r.code).toBe(0);
    const u = r.json<Updated>();
    expect(u.role).toMatchObject({
      revision: 3,
      description: 'theirs',
      systemPrompt: 'You review code and tests.',
    });
    expect(u.conflicts).toEqual([
      expect.objectContaining({
        path: 'description',
        theirs: 'theirs',
        mine: 'mine',
        rule: 'first-write-wins',
      }),
    ]);
  });
});
