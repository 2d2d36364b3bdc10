import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ConfigurationService } from '/work/main/dist/configuration/configuration-service.js';
import { PostgresStore } from '/work/main/dist/postgres/index.js';

const schema = `prof_${Date.now()}`;
const url = `postgres://postgres:troupe@127.0.0.1:5432/troupe_test?schema=${schema}`;
const store = await PostgresStore.connect(url, { poolSize: 4 });
const config = new ConfigurationService(store, { runLog: store.runLog() });
const personality = (i) => ({
  id: `p${i}`,
  name: `P${i}`,
  bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
});
const role = (i) => ({
  id: `r${i}`,
  name: `R${i}`,
  systemPrompt: 'Review code.',
  capabilities: ['code-review'],
});
const agent = (i) => ({
  id: `a${i}`,
  name: `A${i}`,
  personalityId: `p${i}`,
  roleId: `r${i}`,
  model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
});
let n = 0;
const N = Number(process.env.N ?? 1500);
for (let i = 0; i < 100; i++)
  await config.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) });
const _b = performance.eventLoopUtilization();
const t = performance.now();
for (let i = 0; i < N; i++)
  await config.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) });
const _el = performance.now() - t;
await store.close();
const c = new pg.Client({ connectionString: 'postgres://postgres:troupe@127.0.0.1:5432/troupe_test' });
await c.connect();
await c.query(`DROP SCHEMA ${schema} CASCADE`);
await c.end();
