import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { initialised, snapshot, write } from './helpers.js';

async function withAgent() {
  const c = await initialised();
  await c.t('personality', 'create', '--preset', 'calm-analyst');
  await c.t(
    'agent',
    'create',
    '--name',
    'Ada',
    '--personality',
    'calm-analyst',
    '--role',
    'developer',
    '--model',
    'gpt-4o',
  );
  return c;
}

describe('round trips: what show prints is accepted back', () => {
  it('show -o yaml into create --from: the store metadata is ignored (a copy is a new entity)', async () => {
    const { root, t } = await withAgent();
    const shown = parse((await t('personality', 'show', 'calm-analyst', '-o', 'yaml')).stdout);
    expect(shown).toMatchObject({ id: 'calm-analyst', revision: 1 });
    await write(root, 'copy.yaml', stringify({ ...shown, id: 'calm-copy' }));
    const r = await t('personality', 'create', '--from', 'copy.yaml', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ id: 'calm-copy', revision: 1 });
  });

  it('show -o json into update --from: its revision is compare-and-swapped, like resourceVersion', async () => {
    const { root, dir, t } = await withAgent();
    const shown = (await t('personality', 'show', 'calm-analyst', '-o', 'json')).json<
      Record<string, unknown>
    >();
    await write(root, 'edit.json', JSON.stringify({ ...shown, name: 'Calmer' }));
    const first = await t('personality', 'update', 'calm-analyst', '--from', 'edit.json');
    expect(first.code, first.stderr).toBe(0);
    // The same file again: it was read at revision 1, the store is at 2 now.
    const before = await snapshot(dir);
    const again = await t('personality', 'update', 'calm-analyst', '--from', 'edit.json');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/expected revision 1, found 2/);
    expect(await snapshot(dir)).toEqual(before);
    const both = await t(
      'personality',
      'update',
      'calm-analyst',
      '--from',
      'edit.json',
      '--expect-revision',
      '2',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('carries revision 1 but the expected revision given is 2');
  });

  it('a revision that is not a whole number is refused, never taken for no revision at all', async () => {
    const { root, dir, t } = await withAgent();
    await t('personality', 'update', 'calm-analyst', '--name', 'Moved on'); // now at revision 2
    const before = await snapshot(dir);
    for (const revision of ['1', '0x1', 1.5, -1, [1]]) {
      await write(root, 'stale.json', JSON.stringify({ name: 'Stale edit', revision }));
      const r = await t('personality', 'update', 'calm-analyst', '--from', 'stale.json');
      expect(r.code, JSON.stringify(revision)).toBe(1);
      expect(r.stderr).toContain(
        'stale.json: personality "calm-analyst": revision: must be the whole number the input was read at',
      );
    }
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a revision a YAML file writes in another form than decimal digits (0x1, 1e0, +1) is refused, not read as 1', async () => {
    const { root, dir, t } = await withAgent();
    const before = await snapshot(dir);
    for (const revision of ['0x1', '0o1', '1e0', '+1', '1.0']) {
      await write(root, 'edit.yaml', `name: Hex edit\nrevision: ${revision}\n`);
      const r = await t('personality', 'update', 'calm-analyst', '--from', 'edit.yaml');
      expect(r.code, revision).toBe(1);
      expect(r.stderr).toContain(`edit.yaml: revision: must be written in decimal digits, not "${revision}"`);
    }
    // Through an alias, and with a leading zero (JSON refuses one too).
    for (const [text, written] of [
      ['x: &r 0x1\nrevision: *r\n', '0x1'],
      ['revision: 01\n', '01'],
    ] as const) {
      await write(root, 'edit.yaml', `name: Odd edit\n${text}`);
      const r = await t('personality', 'update', 'calm-analyst', '--from', 'edit.yaml');
      expect(r.code, text).toBe(1);
      expect(r.stderr).toContain(`edit.yaml: revision: must be written in decimal digits, not "${written}"`);
    }
    // In a bundle, the entry is named by its place.
    await write(
      root,
      'bundle.yaml',
      'personalities:\n  - id: calm-analyst\n    name: Hex\n    revision: 0x1\n',
    );
    const b = await t('apply', '-f', 'bundle.yaml');
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('bundle.yaml: personalities.0.revision: must be written in decimal digits');
    expect(await snapshot(dir)).toEqual(before);
    await write(root, 'edit.yaml', 'name: Decimal edit\nrevision: 1\n');
    expect((await t('personality', 'update', 'calm-analyst', '--from', 'edit.yaml')).code).toBe(0);
  });

  it("an agent's show output, composition fields and all, is accepted by update --from", async () => {
    const { root, t } = await withAgent();
    const shown = (await t('agent', 'show', 'ada', '-o', 'json')).json<Record<string, unknown>>();
    expect(shown).toHaveProperty('configurationHash');
    await write(root, 'ada.json', JSON.stringify({ ...shown, instructions: 'Be brief.' }));
    const r = await t('agent', 'update', 'ada', '--from', 'ada.json');
    expect(r.code, r.stderr).toBe(0);
    expect((await t('agent', 'show', 'ada', '--json')).json()).toMatchObject({
      instructions: 'Be brief.',
      revision: 2,
    });
  });

  it('apply takes shown documents; a revision they carry is held, so a stale one changes nothing', async () => {
    const { root, dir, t } = await withAgent();
    const p = (await t('personality', 'show', 'calm-analyst', '--json')).json<Record<string, unknown>>();
    const a = (await t('agent', 'show', 'ada', '--json')).json<Record<string, unknown>>();
    await write(root, 'b.json', JSON.stringify({ personalities: [{ ...p, name: 'Calm 2' }], agents: [a] }));
    const ok = await t('apply', '-f', 'b.json');
    expect(ok.code, ok.stderr).toBe(0);
    const before = await snapshot(dir);
    const stale = await t('apply', '-f', 'b.json');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /personality "calm-analyst" was modified concurrently: expected revision 1, found 2/,
    );
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('export of a selection', () => {
  it('export agent ID --with-deps is a bundle another directory can apply as it is', async () => {
    const { root, t } = await withAgent();
    await t('role', 'create', '--from-template', 'developer', '--id', 'dev-2', '--name', 'Dev 2');
    await t('agent', 'update', 'ada', '--role', 'dev-2');
    const only = (await t('export', 'agent', 'ada')).json<Record<string, unknown[]>>();
    expect(only.agents).toHaveLength(1);
    expect(only.personalities).toEqual([]);
    const r = await t('export', 'agent', 'ada', '--with-deps');
    const b = r.json<{
      personalities: Array<{ id: string }>;
      roles: Array<{ id: string }>;
      agents: unknown[];
    }>();
    expect(b.personalities.map((p) => p.id)).toEqual(['calm-analyst']);
    expect(b.roles.map((x) => x.id)).toEqual(['dev-2']);
    await write(root, 'ada.json', r.stdout);
    const other = await initialised();
    await write(other.root, 'ada.json', r.stdout);
    const applied = await other.t('apply', '-f', 'ada.json');
    expect(applied.code, applied.stderr).toBe(0);
    expect((await other.t('validate')).code).toBe(0);
    expect((await t('export', 'personality')).code).toBe(2);
    expect((await t('export', 'personality', 'calm-analyst', '--with-deps')).code).toBe(2);
  });
});
