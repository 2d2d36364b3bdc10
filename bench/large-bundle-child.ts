// One apply of a generated bundle of N entities in a fresh process (so its peak memory is its
// own), on the file store with its run log: prints {"ms", "maxRssMB", "entities"} as JSON.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationService } from '../src/configuration/configuration-service.js';
import type { TroupeBundle } from '../src/configuration/inputs.js';
import { FileRunLog } from '../src/orchestration/file-run-log.js';
import { FileStore } from '../src/storage/file/store.js';

const n = Number(process.argv[2]);
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
try {
  const store = await FileStore.init(dir);
  const config = new ConfigurationService(store, { runLog: new FileRunLog(join(dir, '.troupe', 'runs')) });
  const t0 = performance.now();
  await config.applyBundle(bundle);
  // Closing checkpoints the journal: every file fsynced, part of what an apply costs.
  await store.close();
  const ms = performance.now() - t0;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ ms, maxRssMB, entities: n }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
