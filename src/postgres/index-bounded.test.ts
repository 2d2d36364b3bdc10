import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { agentInput, calm, reviewer } from '../configuration/test-setup.test-helper.js';
import type { RunSummary } from '../orchestration/run-log.js';
import { createApp } from '../server/app.js';
import { faulty } from './faulty.test-helper.js';
import { instances, lastSchema } from './instances.test-helper.js';
import { scannedWhole } from './plans.test-helper.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

const request = (id: string) => ({
  agent: agentInput(id, { personalityId: `${id}-p`, roleId: `${id}-r` }),
  personality: { ...calm, id: `${id}-p` },
  role: { ...reviewer, id: `${id}-r` },
});

describe.each(engines.map((e) => [e]))('the documents a change reads and writes, on %s', (engine) => {
  it('are found by their key or an index, never by reading the whole table, however many it holds', async () => {
    const [plain] = await instances(engine, 1);
    const seen: Array<{ text: string; params: unknown[] }> = [];
    const store = await PostgresStore.over(
      faulty(plain!.sql, (text, run, params) => {
        seen.push({ text, params: params ?? [] });
        return run();
      }),
      { schema: lastSchema() as string },
    );
    // A cast of many agents: copies of one agent, its personality, role and resolved file (written
    // directly: quicker than 20,000 commits), all on the seed's personality and role.
    const config = new ConfigurationService(store, { runLog: store.runLog() });
    await config.createAgent(request('seed'));
    await plain!.sql.exec(
      `INSERT INTO troupe_documents (kind, id, revision, doc)
       SELECT d.kind, d.id || '-' || g, d.revision, jsonb_set(d.doc::jsonb, '{id}', to_jsonb(d.id || '-' || g))::json
       FROM generate_series(1, 5000) g, troupe_documents d WHERE d.id IN ('seed', 'seed-p', 'seed-r');
       ANALYZE troupe_documents`,
    );
    seen.length = 0;
    await config.createAgent(request('new'));
    await store.list('models');
    // An update re-composes the personality's agents, found by the personality, and guards
    // that no other took it up meanwhile; a delete guards that none uses the role.
    expect((await config.updatePersonality('new-p', { name: 'Calmer' })).synced).toEqual(['new']);
    await config.createRole({ ...reviewer, id: 'lonely' });
    await config.deleteRole('lonely');
    const reads = seen.filter((s) => /troupe_documents/.test(s.text));
    expect(reads.length).toBeGreaterThanOrEqual(9); // each change's plan, commit and check
    for (const { text, params } of reads) {
      const { rows } = await plain!.sql.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) ${text}`,
        params,
      );
      expect({ text, scanned: scannedWhole(rows[0]?.['QUERY PLAN']) }).toEqual({ text, scanned: [] });
    }
  });
});

/** The statements `fn` sends that name `table`, with their parameters. */
async function sent(
  engine: string,
  table: string,
  fn: (store: PostgresStore, plain: PostgresStore) => Promise<void>,
): Promise<Array<{ text: string; params: unknown[]; scanned: string[] }>> {
  const [plain] = await instances(engine, 1);
  const seen: Array<{ text: string; params: unknown[] }> = [];
  const store = await PostgresStore.over(
    faulty(plain!.sql, (text, run, params) => {
      if (text.includes(table)) seen.push({ text, params: params ?? [] });
      return run();
    }),
    { schema: lastSchema() as string },
  );
  await fn(store, plain!);
  const out = [];
  for (const { text, params } of seen) {
    const { rows } = await plain!.sql.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      params,
    );
    out.push({ text, params, scanned: scannedWhole(rows[0]?.['QUERY PLAN']) });
  }
  return out;
}

describe.each(engines.map((e) => [e]))('the runs a listing reads, on %s', (engine) => {
  /** Many finished runs, three to a millisecond (written directly: quicker than 20,000 runs). */
  const manyRuns = (plain: PostgresStore) =>
    plain.sql.exec(
      `INSERT INTO troupe_runs (run_id, workflow_id, state, created_at, updated_at, epoch, released)
       SELECT 'run-' || lpad(g::text, 6, '0'), 'w', 'completed', 1700000000000 + g / 3, 1700000000000 + g / 3 + 5, 1, true
       FROM generate_series(1, 20000) g;
       ANALYZE troupe_runs`,
    );

  it('a page of GET /runs is a range of an index, not the whole table, however many runs there are', async () => {
    const pages: string[][] = [];
    const statements = await sent(engine, 'troupe_runs', async (store, plain) => {
      await manyRuns(plain);
      const app = createApp({ config: new ConfigurationService(store, { runLog: store.runLog() }) });
      const first = await (await app.request('/api/runs?limit=50')).json();
      const second = await (await app.request(`/api/runs?limit=50&after=${first.next}`)).json();
      pages.push(...[first, second].map((p: { runs: RunSummary[] }) => p.runs.map((r) => r.runId)));
    });
    // Newest first: 20000 and 19999 were created in the same millisecond, the greater id first.
    expect(pages[0]?.slice(0, 3)).toEqual(['run-020000', 'run-019999', 'run-019998']);
    expect(pages[1]?.[0]).toBe('run-019950');
    expect(statements.length).toBeGreaterThanOrEqual(2);
    for (const { text, scanned } of statements) expect({ text, scanned }).toEqual({ text, scanned: [] });
  });

  it('the runs an id prefix names (workflow show 3f2a) are a range of an index', async () => {
    let found: string[] = [];
    const statements = await sent(engine, 'troupe_runs', async (store, plain) => {
      await manyRuns(plain);
      const config = new ConfigurationService(store, { runLog: store.runLog() });
      found = (await config.runsPrefixed('run-01234')).map((r) => r.runId);
    });
    expect(found).toEqual([...Array(10)].map((_, i) => `run-01234${i}`));
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const { text, scanned } of statements) expect({ text, scanned }).toEqual({ text, scanned: [] });
  });
});
