import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castDir, troupe } from '../races/processes.js';

// A kill cannot show a missing fsync (the page cache survives it), so this checks the order
// durability needs on the trace of a real command: every fsync goes through one primitive that
// is a traced crash point (`synced:<what> <path>`), and each rule below names what a power
// loss would cost without the fsync it requires.

let root: string;
let trace: Array<{ name: string; detail: string }>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'troupe-fsync-order-'));
  const dir = join(root, 'cfg');
  await cp(await castDir(3), dir, { recursive: true });
  const file = join(root, 'trace.txt');
  const r = await troupe(dir, ['personality', 'update', 'hub', '--trait', 'humor=7'], {
    TROUPE_CRASH_TRACE: file,
  });
  expect(r.code, r.stderr).toBe(0);
  trace = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => {
      const at = l.indexOf(' ');
      return at < 0 ? { name: l, detail: '' } : { name: l.slice(0, at), detail: l.slice(at + 1) };
    });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const KIND_FOLDER = new RegExp(
  `\\${sep}(personalities|roles|agents|models|resolved)\\${sep}[^${sep}]+\\.json$`,
);
const indexes = (name: string, detail?: (d: string) => boolean) =>
  trace.flatMap((e, i) => (e.name === name && (!detail || detail(e.detail)) ? [i] : []));

describe('the fsyncs a cascading update needs, in the order it needs them', () => {
  it('the commit record is fdatasynced before any entity file changes (else a power loss keeps files of an undecided commit)', () => {
    const records = indexes('journal:written');
    expect(records.length).toBeGreaterThan(0);
    for (const w of records) {
      const firstFile = trace.findIndex(
        (e, i) => i > w && e.name === 'file:write' && KIND_FOLDER.test(e.detail),
      );
      if (firstFile < 0) continue;
      const synced = trace.findIndex((e, i) => i > w && i < firstFile && e.name === 'synced:journal');
      expect(
        synced,
        `journal record at trace line ${w + 1} not synced before ${trace[firstFile]!.detail}`,
      ).toBeGreaterThan(w);
    }
  });

  it('a checkpoint fsyncs every file it lets go and every folder of them before it empties the journal (else a power loss loses committed files)', () => {
    const truncates = indexes('journal:truncate');
    expect(truncates.length).toBeGreaterThan(0);
    let from = 0;
    let checked = 0;
    for (const t of truncates) {
      const renamed = new Map<string, number>();
      for (let i = from; i < t; i++) {
        const e = trace[i]!;
        if ((e.name === 'file:renamed' || e.name === 'file:removed') && KIND_FOLDER.test(e.detail))
          renamed.set(e.detail, i);
      }
      for (const [path, last] of renamed) {
        const fileSynced = trace.some(
          (e, i) => i > last && i < t && e.name === 'synced:file' && e.detail === path,
        );
        const removed = trace[last]!.name === 'file:removed';
        if (!removed) expect(fileSynced, `${path} not fsynced before the journal was emptied`).toBe(true);
        const dirSynced = trace.some(
          (e, i) => i > last && i < t && e.name === 'synced:dir' && e.detail === dirname(path),
        );
        expect(dirSynced, `folder of ${path} not fsynced before the journal was emptied`).toBe(true);
        checked++;
      }
      from = t + 1;
    }
    expect(checked).toBeGreaterThan(6); // the personality, 3 agents, 3 resolved files
  });

  it('an intent is fsynced before the step writes (else a power loss leaves a write recovery cannot undo)', () => {
    const intents = indexes('runlog:written', (d) => d.endsWith(' intent'));
    expect(intents.length).toBeGreaterThan(0);
    for (const w of intents) {
      const run = trace[w]!.detail.split(' ')[0];
      const append = trace.findIndex((e, i) => i > w && e.name === 'journal:append');
      expect(append).toBeGreaterThan(w);
      const synced = trace.some(
        (e, i) => i > w && i < append && e.name === 'synced:runlog' && e.detail === run,
      );
      expect(synced, `intent of run ${run} not fsynced before its commit`).toBe(true);
    }
  });

  it('the final state of a run is fsynced (else a power loss makes recovery undo an acknowledged change)', () => {
    const finals = indexes('runlog:written', (d) => d.endsWith(' state'));
    expect(finals.length).toBeGreaterThan(0);
    const last = finals.at(-1)!;
    const run = trace[last]!.detail.split(' ')[0];
    expect(trace.some((e, i) => i > last && e.name === 'synced:runlog' && e.detail === run)).toBe(true);
  });
});
