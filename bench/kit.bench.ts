import { clearFixtureCache, loadFixtures } from '../src/testing/fixtures/index.js';
import { planFigures } from '../src/testing/index.js';
import { type BenchRow, formatTable, isMain } from './run.js';

/**
 * The original plan's three figures against its budgets (fixture load 100 ms, fake creation
 * 50 ms, coordination overhead 10 ms); the target is at least 20× under each. Fixture load is
 * measured uncached: every run reads, parses and validates the three files.
 */
export async function kitBench(): Promise<BenchRow[]> {
  const figures = await planFigures({
    loadFixtures: () => {
      clearFixtureCache();
      return loadFixtures();
    },
  });
  const rows: BenchRow[] = [];
  for (const f of [figures.fixtureLoad, figures.fakeCreation, figures.coordinationOverhead]) {
    rows.push({ name: `${f.name} budget`, value: f.budgetMs, unit: 'ms' });
    rows.push({
      name: `${f.name} (median)`,
      value: f.median,
      unit: 'ms',
      baseline: `${f.name} budget`,
      ratio: f.median / f.budgetMs,
    });
  }
  const o = figures.coordinationOverhead;
  rows.push({ name: 'create-agent through the workflow (median)', value: o.workflow.median, unit: 'ms' });
  rows.push({
    name: 'create-agent planned and committed directly (median)',
    value: o.direct.median,
    unit: 'ms',
    baseline: 'create-agent through the workflow (median)',
    ratio: o.direct.median / o.workflow.median,
  });
  return rows;
}

if (isMain(import.meta)) console.log(formatTable(await kitBench()));
