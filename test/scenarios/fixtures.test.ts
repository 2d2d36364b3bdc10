import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { isTroupeError, type TroupeError } from '../../src/domain/errors.js';
import {
  clearFixtureCache,
  FIXTURE_NAMES,
  type FixtureName,
  fixtureUrl,
  loadFixtureFile,
  loadFixtures,
  runScenario,
  scenarioCases,
  scenarioExecutors,
} from '../../src/testing/fixtures/index.js';

type RawScenario = { id: string; kind: string; failures?: Array<{ id: string; at: string }> } & Record<
  string,
  unknown
>;
type RawFile = { scenarios: RawScenario[] } & Record<string, unknown>;

/** The file as written, read without the loader: what the coverage check counts against. */
const raw = (name: FixtureName): RawFile => JSON.parse(readFileSync(fixtureUrl(name), 'utf8')) as RawFile;

const fixtures = loadFixtures();
const cases = scenarioCases(fixtures);
/** Ids whose test started, in the order they ran. */
const executed: string[] = [];

for (const name of FIXTURE_NAMES) {
  describe(`${name}.json`, () => {
    for (const c of cases.filter((x) => x.file === name)) {
      it(c.id, async () => {
        executed.push(c.id);
        const report = await runScenario(c.scenario, c.failure === undefined ? {} : { failure: c.failure });
        expect(report.id).toBe(c.id);
        expect(report.kind).toBe(c.scenario.kind);
        expect(report.checks.length).toBeGreaterThan(0);
      });
    }
  });
}

describe('fixture coverage', () => {
  // Runs after every scenario test above: tests in a file run in the order they are declared.
  it('every scenario and failure of the three files had a test that ran', () => {
    const declared = FIXTURE_NAMES.flatMap((name) =>
      raw(name).scenarios.flatMap((s) => [s.id, ...(s.failures ?? []).map((f) => f.id)]),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.filter((id) => !executed.includes(id))).toEqual([]);
    expect(executed.filter((id, i) => executed.indexOf(id) !== i)).toEqual([]);
  });

  it('every scenario kind has an executor, and every executor a scenario', () => {
    const kinds = new Set(FIXTURE_NAMES.flatMap((name) => raw(name).scenarios.map((s) => s.kind)));
    expect([...kinds].filter((k) => !(k in scenarioExecutors))).toEqual([]);
    expect(Object.keys(scenarioExecutors).filter((k) => !kinds.has(k))).toEqual([]);
  });

  it('agent creation fails at every step of its workflow', () => {
    const creations = raw('multi-service-workflows').scenarios.filter((s) => s.kind === 'agent-creation');
    const withFailures = creations.filter((s) => (s.failures ?? []).length > 0);
    expect(withFailures.length).toBeGreaterThan(0);
    for (const s of withFailures) {
      const steps = (s.steps as Array<{ id: string }>).map((st) => st.id);
      expect((s.failures ?? []).map((f) => f.at).sort()).toEqual([...steps].sort());
    }
  });
});

describe('fixture loader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-fixtures-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes a modified copy of a package fixture under its own name and loads it. */
  const loadBroken = (name: FixtureName, edit: (file: RawFile) => void): TroupeError => {
    const file = raw(name);
    edit(file);
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(file, null, 2));
    try {
      loadFixtureFile(path);
    } catch (e) {
      if (isTroupeError(e)) return e;
      throw e;
    }
    throw new Error('expected the loader to reject the file');
  };

  const indexOf = (file: RawFile, kind: string) => {
    const i = file.scenarios.findIndex((s) => s.kind === kind);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('loads the three files, validated and cached, within the 100 ms budget', () => {
    clearFixtureCache();
    const started = performance.now();
    const loaded = loadFixtures();
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(100);
    expect(loadFixtures()).toBe(loaded);
    for (const name of FIXTURE_NAMES) {
      expect(loaded[name].fixture).toBe(name);
      expect(loaded[name].scenarios.length).toBe(raw(name).scenarios.length);
    }
  });

  it('merges a named cast into each scenario that uses it', () => {
    const s = loadFixtures()['consistency-scenarios'].scenarios.find(
      (x) => x.id === 'cascade-update-of-unused-personality-touches-no-agent',
    );
    expect(s?.setup).not.toHaveProperty('cast');
    expect(s?.setup?.personalities?.map((p) => p.id)).toEqual(['steady', 'bright', 'quiet']);
    expect(s?.setup?.agents).toHaveLength(4);
  });

  it('rejects a wrong value naming the file and the path of the error', () => {
    let at = -1;
    const e = loadBroken('communication-patterns', (file) => {
      at = indexOf(file, 'retry');
      (file.scenarios[at]?.expected as Record<string, unknown>).delays = 'fast';
    });
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toContain(`communication-patterns.json: scenarios[${at}].expected.delays: `);
    expect(e.issues.map((i) => i.path)).toEqual([`scenarios[${at}].expected.delays`]);
    expect(e.issues[0]?.file).toBe('communication-patterns.json');
  });

  it('names every error of the file, each by its path', () => {
    const paths: string[] = [];
    const e = loadBroken('consistency-scenarios', (file) => {
      const a = indexOf(file, 'reconciliation');
      const b = indexOf(file, 'concurrent-modification');
      (file.scenarios[a]?.expected as Record<string, unknown>).windowMs = -5;
      (file.scenarios[b]?.second as Record<string, unknown>).strategy = 'newest-wins';
      (file.scenarios[0] as Record<string, unknown>).expectd = {};
      paths.push(`scenarios[${a}].expected.windowMs`, `scenarios[${b}].second.strategy`, 'scenarios[0]');
    });
    expect(e.issues.map((i) => i.path).sort()).toEqual([...paths].sort());
    for (const p of paths) expect(e.message).toContain(`consistency-scenarios.json: ${p}: `);
    expect(e.message).toContain('unknown field "expectd"');
  });

  it('rejects a scenario of an unknown kind', () => {
    const e = loadBroken('multi-service-workflows', (file) => {
      (file.scenarios[1] as Record<string, unknown>).kind = 'teleport';
    });
    expect(e.issues.map((i) => i.path)).toEqual(['scenarios[1].kind']);
  });

  it('rejects duplicate ids, naming both places', () => {
    const e = loadBroken('multi-service-workflows', (file) => {
      const first = file.scenarios[0] as RawScenario;
      const failure = first.failures?.[1];
      if (failure) failure.id = first.id;
    });
    expect(e.issues).toMatchObject([
      { path: 'scenarios[0].failures[1].id', message: expect.stringContaining('(also scenarios[0].id)') },
    ]);
  });

  it('rejects an agent creation whose failures miss a step', () => {
    let at = -1;
    const e = loadBroken('multi-service-workflows', (file) => {
      at = indexOf(file, 'agent-creation');
      file.scenarios[at]?.failures?.pop();
    });
    expect(e.issues.map((i) => i.path)).toEqual([`scenarios[${at}].failures`]);
    expect(e.message).toMatch(/no failure at step verify/);
  });

  it('rejects a setup naming a cast the file does not have', () => {
    const e = loadBroken('communication-patterns', (file) => {
      (file.scenarios[2]?.setup as Record<string, unknown>).cast = 'backstage';
    });
    expect(e.issues).toMatchObject([
      { path: 'scenarios[2].setup.cast', message: expect.stringContaining('"backstage"') },
    ]);
  });

  it('rejects a file that is not JSON or names no fixture schema', () => {
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ "fixture": ');
    expect(() => loadFixtureFile(notJson)).toThrow(/broken\.json: \(root\): not valid JSON/);
    const unnamed = join(dir, 'unnamed.json');
    writeFileSync(unnamed, JSON.stringify({ scenarios: [] }));
    expect(() => loadFixtureFile(unnamed)).toThrow(/unnamed\.json: fixture: must name the fixture schema/);
    expect(() => loadFixtureFile(join(dir, 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});
