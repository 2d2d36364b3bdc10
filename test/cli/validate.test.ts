import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeStale, seeded, snapshot, write } from './helpers.js';

describe('troupe validate', () => {
  it('says "valid" and exits 0 on a consistent directory', async () => {
    const { t } = await seeded();
    const r = await t('validate');
    expect(r).toMatchObject({ code: 0, stdout: 'valid\n', stderr: '' });
    expect((await t('validate', '--json')).json()).toEqual({ valid: true, problems: [] });
  });

  it('lists every problem with its file and field, and exits 1', async () => {
    const { dir, t } = await seeded();
    const p = JSON.parse(await readFile(join(dir, 'personalities', 'calm.json'), 'utf8'));
    p.bigFive.openness = 170;
    await write(dir, 'personalities/calm.json', JSON.stringify(p, null, 2));
    await write(dir, 'roles/reviewer.json', '{ "id": "reviewer", ');
    const r = await t('validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /personalities\/calm\.json[\s\S]*bigFive\.openness: must be an integer 0–100, got 170/,
    );
    expect(r.stdout).toMatch(/roles\/reviewer\.json.*invalid JSON/);
    expect(r.stdout).toMatch(/\d+ problems found/);
    const j = (await t('validate', '--json')).json<{
      valid: boolean;
      problems: Array<{ file: string; kind: string }>;
    }>();
    expect(j.valid).toBe(false);
    expect(j.problems.map((x) => x.file)).toEqual(
      expect.arrayContaining(['personalities/calm.json', 'roles/reviewer.json']),
    );
  });

  it('reports stale agents and missing resolved files as fixable', async () => {
    const { dir, t } = await seeded();
    await makeStale(dir, 'ada');
    await unlink(join(dir, 'resolved', 'otto.json'));
    const r = await t('validate');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'agents/ada.json: stale: personality "calm" changed (composed against r0, now r1)',
    );
    expect(r.stdout).toContain('resolved/otto.json is missing');
    expect(r.stdout).toContain('can be fixed with `troupe reconcile`');
  });
});

describe('troupe reconcile', () => {
  it('--dry-run lists what it would fix and writes nothing; then it fixes it', async () => {
    const { root, dir, t } = await seeded();
    await makeStale(dir, 'ada');
    await unlink(join(dir, 'resolved', 'otto.json'));
    const before = await snapshot(root);
    const dry = await t('reconcile', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Would fix 2 problems');
    expect(dry.stdout).toContain('resolved/otto.json is missing');
    expect(await snapshot(root)).toEqual(before);
    const r = await t('reconcile', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ applied: true, remaining: [] });
    expect((await t('validate')).stdout).toBe('valid\n');
    expect(JSON.parse(await readFile(join(dir, 'agents', 'ada.json'), 'utf8')).personalityVersion).toBe(1);
    expect((await snapshot(dir))['resolved/otto.json']).toBeDefined();
  });

  it('says so when there is nothing to do', async () => {
    const { t } = await seeded();
    expect((await t('reconcile')).stdout).toContain('Nothing to reconcile');
  });

  it('exits 1 when problems remain that need a person', async () => {
    const { dir, t } = await seeded();
    await write(dir, 'personalities/calm.json', 'not json');
    const r = await t('reconcile');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 problem needs a person');
    expect(r.stdout).toContain('personalities/calm.json');
  });
});

describe('workflow run logs', () => {
  it('records every run in .troupe/runs, failed ones included, without touching the configuration', async () => {
    const { dir, t } = await seeded();
    const runs = async () =>
      (await readdir(join(dir, '.troupe', 'runs'))).filter((f) => f.endsWith('.jsonl'));
    const before = (await runs()).length;
    expect(before).toBeGreaterThan(0);
    const bad = await t('personality', 'delete', 'calm', '--json');
    expect(bad.code).toBe(1);
    const runId = (bad.error() as { context?: { runId?: string } }).context?.runId;
    expect(runId).toBeTypeOf('string');
    // The run ended for good (compensated), so its log is moved aside as <runId>.done.jsonl.
    expect(await runs()).toContain(`${runId}.done.jsonl`);
    const lines = (await readFile(join(dir, '.troupe', 'runs', `${runId}.done.jsonl`), 'utf8'))
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l) as { type: string; to?: string }).at(-1)).toMatchObject({
      type: 'state',
    });
    expect((await t('validate')).stdout).toBe('valid\n');
  });
});
