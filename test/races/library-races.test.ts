import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { FileRunLog } from '../../src/orchestration/file-run-log.js';
import { FileStore } from '../../src/storage/file/store.js';
import { castDir, child, type Doc, inconsistencies, readDoc, started } from './processes.js';

type Line =
  | { ok: true; revision: number; humor: number; cas: boolean; unchanged: boolean }
  | { ok: false; code: string; cas: boolean; message: string };

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('library callers in separate processes updating one personality', () => {
  it('8 processes × 40 updates (CAS and plain): nothing acknowledged is lost, no revision is handed out twice', async () => {
    const dir = await castDir(3);
    const start = (await readDoc(dir, 'personalities/hub.json'))!.revision;
    const exits = await Promise.all(
      [...Array(8).keys()].map((w) => child('./library-child.ts', [dir, String(w), '40', 'mixed'])),
    );
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    const all = exits.flatMap((e) => lines(e.stdout));
    expect(all).toHaveLength(320);
    const done = all.filter((l): l is Extract<Line, { ok: true }> => l.ok);
    // An update to the value already stored writes nothing and says so: it takes no revision.
    const acks = done.filter((a) => !a.unchanged);
    // Only a compare-and-swap may fail, and only because someone else wrote first.
    for (const f of all.filter((l) => !l.ok)) {
      expect(f.cas, JSON.stringify(f)).toBe(true);
      expect(f.code, JSON.stringify(f)).toBe('CONCURRENT_MODIFICATION');
    }
    expect(done.filter((a) => !a.cas)).toHaveLength(160);
    // Every write got a revision of its own, and every revision is one acknowledged write: none
    // lost, none applied twice, none undone behind its writer's back.
    const revisions = acks.map((a) => a.revision).sort((a, b) => a - b);
    const gaps = revisions.filter((r, i) => r !== start + 1 + i);
    const dups = acks.filter((a) => acks.filter((b) => b.revision === a.revision).length > 1);
    expect(gaps, `duplicates ${JSON.stringify(dups)}`).toEqual([]);
    // An "unchanged" answer names a revision that really held that value.
    for (const u of done.filter((a) => a.unchanged)) {
      const at = acks.find((a) => a.revision === u.revision);
      expect(u.revision === start || at?.humor === u.humor, JSON.stringify(u)).toBe(true);
    }
    const stored = (await readDoc(dir, 'personalities/hub.json')) as Doc;
    expect(stored.revision).toBe(start + acks.length);
    const last = acks.find((a) => a.revision === stored.revision)!;
    expect((stored.behaviors as { humor: number }).humor).toBe(last.humor);
    for (const a of ['a0', 'a1', 'a2'])
      expect((await readDoc(dir, `agents/${a}.json`))!.personalityVersion).toBe(stored.revision);
    expect(await inconsistencies(dir)).toEqual([]);
  }, 180_000);

  it('4 processes updating at once while one is killed mid-change: every acknowledged write stands, recovery leaves all consistent', async () => {
    const dir = await castDir(20);
    const start = (await readDoc(dir, 'personalities/hub.json'))!.revision;
    const victim = started('./library-child.ts', [dir, '9', '200', 'plain']);
    const others = [0, 1, 2].map((w) => started('./library-child.ts', [dir, String(w), '30', 'plain']));
    // Kill the victim once it has acknowledged a few writes: somewhere inside a later one.
    let ended = false;
    void victim.exit.then(() => {
      ended = true;
    });
    while (!ended && victim.stdout().split('\n').length <= 3) await new Promise((r) => setTimeout(r, 10));
    victim.kill();
    const gone = await victim.exit;
    expect(gone.code).toBe(null);
    const exits = await Promise.all(others.map((o) => o.exit));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    const acks = [gone, ...exits]
      .flatMap((e) => lines(e.stdout))
      .filter((l): l is Extract<Line, { ok: true }> => l.ok && !l.unchanged);
    // The survivors' updates all succeeded; nobody was handed a revision twice.
    for (const e of exits) for (const l of lines(e.stdout)) expect(l.ok, JSON.stringify(l)).toBe(true);
    const revisions = acks.map((a) => a.revision);
    expect(new Set(revisions).size).toBe(revisions.length);
    // Recovery finishes whatever the killed process left half done, and all is consistent.
    const store = await FileStore.open(dir);
    const config = new ConfigurationService(store, { runLog: new FileRunLog(join(dir, '.troupe', 'runs')) });
    await config.recover({ force: [] });
    const stored = await config.services.personalities.require('hub');
    // Every acknowledged revision happened: none is beyond what is stored, and the last one standing is
    // either acknowledged or the killed process's unacknowledged write (which recovery may have undone).
    for (const r of revisions) expect(r).toBeLessThanOrEqual(stored.revision);
    expect(stored.revision).toBeGreaterThan(start);
    const last = acks.find((x) => x.revision === stored.revision);
    if (last) expect(stored.behaviors?.humor).toBe(last.humor);
    expect(await config.detectInconsistencies()).toEqual([]);
    await store.close();
    expect(await inconsistencies(dir)).toEqual([]);
  }, 180_000);

  it('4 processes applying bundles to the same entities: each apply is whole, never a mix', async () => {
    const dir = await castDir(3);
    const exits = await Promise.all(
      [...Array(4).keys()].map((w) => child('./library-child.ts', [dir, String(w), '10', 'bundle'])),
    );
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    for (const l of exits.flatMap((e) => lines(e.stdout))) expect(l.ok, JSON.stringify(l)).toBe(true);
    const hub = (await readDoc(dir, 'personalities/hub.json'))!;
    const t = (hub.behaviors as { humor: number }).humor;
    expect((hub.bigFive as { openness: number }).openness).toBe(t);
    // The agents carry the same bundle's temperature (t or t+101 when t wrapped).
    const temps = await Promise.all(
      ['a0', 'a1', 'a2'].map(
        async (a) => ((await readDoc(dir, `agents/${a}.json`))!.model as { temperature: number }).temperature,
      ),
    );
    expect(new Set(temps).size).toBe(1);
    expect(Math.round(temps[0]! * 100) % 101).toBe(t);
    expect(await inconsistencies(dir)).toEqual([]);
  }, 180_000);
});
