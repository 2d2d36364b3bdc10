import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instances } from '../postgres/instances.test-helper.js';
import type { PostgresStore } from '../postgres/store.js';
import { postgresUnavailable, sharedPglite } from '../postgres/test-db.test-helper.js';
import { workflow } from './builder.js';
import { FileRunLog } from './file-run-log.js';
import { MemoryRunLog, type RunLog, type RunSummary } from './run-log.js';
import { newestFirst, pageOfRuns, type RunPosition } from './run-pages.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-pages-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});
afterAll(async () => (await sharedPglite()).close());

const kinds = ['memory', 'file', 'pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

async function logOf(kind: string): Promise<RunLog> {
  if (kind === 'memory') return new MemoryRunLog();
  if (kind === 'file') return new FileRunLog(dir);
  const [store] = await instances(kind, 1, 2); // closed, and its schema dropped, after the test
  return (store as PostgresStore).runLog();
}

const def = workflow('w').step('a', 's', 'a').build();

/**
 * Ids whose code-unit order is not a locale's (case, "-" and "_", digits), several created in
 * the same millisecond, and one claimed but never recorded (no listing has it).
 */
const RUNS: Array<[string, number]> = [
  ['a1', 1000],
  ['B2', 1000],
  ['b-3', 1000],
  ['b_3', 1000],
  ['Z', 2000],
  ['z9', 2000],
  ['0x', 1500],
  ['9-9', 3000],
  ['A', 500],
  ['aa', 1000],
];

async function filled(kind: string): Promise<RunLog> {
  const log = await logOf(kind);
  for (const [runId, at] of RUNS) {
    await log.append(runId, { type: 'created', at, runId, workflowId: 'w', definition: def, input: {} });
    await log.append(runId, { type: 'state', at: at + 7, from: null, to: 'running' });
  }
  const lease = await log.claim('claimed-only', { fresh: true });
  if (lease) await log.release(lease);
  return log;
}

const ids = (runs: RunSummary[]) => runs.map((r) => r.runId);

describe.each(kinds.map((k) => [k]))('pages of runs of a %s run log', (kind) => {
  it('are the whole listing newest first, sliced: walked by the last run of each page, every limit', async () => {
    const log = await filled(kind);
    const all = [...(await log.list())].sort(newestFirst);
    expect(all).toHaveLength(RUNS.length);
    // Newest first, ties by the greater id in code-unit order ("b_3" after "b-3", "a1" before "B2").
    expect(ids(all)).toEqual(['9-9', 'z9', 'Z', '0x', 'b_3', 'b-3', 'aa', 'a1', 'B2', 'A']);
    for (let limit = 1; limit <= RUNS.length + 1; limit++) {
      const walked: RunSummary[] = [];
      let after: RunPosition | undefined;
      for (;;) {
        const page = await log.listPage!({ limit, after });
        expect(page).toEqual(all.filter((r) => !after || newestFirst(after, r) < 0).slice(0, limit));
        walked.push(...page);
        const last = page[page.length - 1];
        if (page.length < limit || !last) break;
        after = last;
      }
      expect(walked).toEqual(all);
    }
  });

  it('after any position (between runs, of an unknown id, a fraction of a millisecond, out of range) are what pageOfRuns finds', async () => {
    const log = await filled(kind);
    const all = await log.list();
    const positions: RunPosition[] = [
      { createdAt: 1000, runId: 'b' },
      { createdAt: 1000, runId: 'b-3' },
      { createdAt: 1000, runId: '~' },
      { createdAt: 1000, runId: '' },
      { createdAt: 999.5, runId: 'zz' },
      { createdAt: 1000.5, runId: 'a' },
      { createdAt: 2001, runId: 'A' },
      { createdAt: -1, runId: 'x' },
      { createdAt: 1e300, runId: 'x' },
      { createdAt: -1e300, runId: 'x' },
    ];
    for (const after of positions)
      for (const limit of [1, 3, 100])
        expect({ after, limit, page: await log.listPage!({ limit, after }) }).toEqual({
          after,
          limit,
          page: pageOfRuns(all, { limit, after }),
        });
  });

  it('of the runs an id starts with are those of the listing, in its order', async () => {
    const log = await filled(kind);
    const all = await log.list();
    for (const prefix of [
      '',
      'b',
      'b-',
      'b_3',
      'B',
      'a',
      'aa',
      'z',
      'Z',
      '9-9',
      'c',
      'claimed',
      '\u{10ffff}',
      'é',
    ])
      expect({ prefix, runs: await log.listPrefixed!(prefix) }).toEqual({
        prefix,
        runs: all.filter((r) => r.runId.startsWith(prefix)),
      });
  });
});
