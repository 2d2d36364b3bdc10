// One apply of a generated bundle of N entities in a fresh process (so its peak memory is its
// own), on the file store with its run log, or (`postgres`) on PostgreSQL with its run log:
// prints {"ms", "maxRssMB", "entities"} as JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationService } from '../src/configuration/configuration-service.js';
import type { TroupeBundle } from '../src/configuration/inputs.js';
import { FileRunLog } from '../src/orchestration/file-run-log.js';
import type { RunLog } from '../src/orchestration/run-log.js';
import { PostgresStore } from '../src/postgres/store.js';
import { dropSchema, freshSchema, TEST_POSTGRES_URL } from '../src/postgres/test-db.test-helper.js';
import { FileStore } from '../src/storage/file/store.js';

const n = Number(process.argv[2]);
const engine = process.argv[3] ?? 'file';
if (!Number.isInteger(n) || n < 100) throw new Error('usage: large-bundle-child <entities ≥ 100>');
const bigFive = { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 };
// One personality per 20 entities and one role per 40; the rest are agents.
const people = Math.ceil(n / 20);
const roles = Math.ceil(n / 40);
const bundle: TroupeBundle = {
  personalities: [...Array(people).keys()].map((i) => ({ id: `p${i}`, name: `P${i}`, bigFive })),
  roles: [...Array(roles).keys()].map((i) => ({ id: `r${i}`, name: `R${i}`, systemPrompt: 'Review code.' })),
  agents: [...Array(n - people - roles).keys()].map((i) => ({
    id: `a${i}`,
    name: `A${i}`,
    personalityId: `p${i % people}`,
    roleId: `r${i % roles}`,
    model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
  })),
};
const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-large-'));
const schema = freshSchema();
try {
  let store: FileStore | PostgresStore;
  let runLog: RunLog;
  if (engine === 'postgres') {
    const u = new URL(TEST_POSTGRES_URL);
    u.searchParams.set('schema', schema);
    const pgStore = await PostgresStore.connect(u.toString());
    [store, runLog] = [pgStore, pgStore.runLog()];
  } else {
    const fileStore = await FileStore.init(dir);
    [store, runLog] = [fileStore, new FileRunLog(join(dir, '.troupe', 'runs'))];
  }
  const config = new ConfigurationService(store, { runLog });
  const t0 = performance.now();
  await config.applyBundle(bundle);
  // Closing checkpoints the journal: every file fsynced, part of what an apply costs.
  await store.close();
  const ms = performance.now() - t0;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ ms, maxRssMB, entities: n }));
} finally {
  await rm(dir, { recursive: true, force: true });
  if (engine === 'postgres') await dropSchema(schema);
}
