import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ConfigurationService } from '../src/configuration/configuration-service.js';
import type { AgentInput } from '../src/domain/agent.js';
import { FileRunLog } from '../src/orchestration/file-run-log.js';
import { FileStore } from '../src/storage/file/store.js';
import { MemoryStore } from '../src/storage/memory/store.js';
import { type BenchRow, formatTable, isMain, timePerOp, withRatios } from './run.js';

/** The entities a create-agent bench makes, numbered (shared by the benches). */
export const personality = (i: number) => ({
  id: `p${i}`,
  name: `P${i}`,
  bigFive: { openness: 60, conscientiousness: 70, extraversion: 40, agreeableness: 60, neuroticism: 20 },
});
export const role = (i: number) => ({
  id: `r${i}`,
  name: `R${i}`,
  systemPrompt: 'Review code.',
  capabilities: ['code-review'],
});
export const agent = (i: number): AgentInput => ({
  id: `a${i}`,
  name: `A${i}`,
  personalityId: `p${i}`,
  roleId: `r${i}`,
  model: { provider: 'anthropic', modelId: 'claude-sonnet-4', apiKeyEnv: 'ANTHROPIC_API_KEY' },
});

/**
 * create-agent (new personality + new role + agent + resolved file) as a workflow on the
 * file store, against writing the same four files one by one with write-file-atomic.
 */
export async function workflowBench(): Promise<BenchRow[]> {
  const dirs: string[] = [];
  const fresh = async () => {
    const d = await mkdtemp(join(tmpdir(), 'troupe-bench-'));
    dirs.push(d);
    return d;
  };
  try {
    let n = 0;
    const iterations = 40;

    const memory = new ConfigurationService(new MemoryStore());
    const inMemory = await timePerOp(
      () => memory.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) }),
      { iterations: 200 },
    );

    const fileDir = await fresh();
    const store = await FileStore.init(fileDir);
    const onFile = new ConfigurationService(store);
    const fileWorkflow = await timePerOp(
      () => onFile.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) }),
      { iterations, rounds: 5, warmupRounds: 1 },
    );
    const durable = new ConfigurationService(store, {
      runLog: new FileRunLog(join(fileDir, '.troupe', 'runs')),
    });
    const fileWorkflowDurableLog = await timePerOp(
      () => durable.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) }),
      { iterations, rounds: 5, warmupRounds: 1 },
    );
    await store.close();

    const plainDir = await fresh();
    const docs = (i: number) =>
      [
        ['personalities', personality(i)],
        ['roles', role(i)],
        ['agents', agent(i)],
        ['resolved', { id: `a${i}`, configuration: { systemPrompt: 'x'.repeat(600) } }],
      ] as const;
    const { mkdir } = await import('node:fs/promises');
    for (const k of ['personalities', 'roles', 'agents', 'resolved'])
      await mkdir(join(plainDir, k), { recursive: true });
    const oneByOne = await timePerOp(
      async () => {
        const i = ++n;
        for (const [kind, doc] of docs(i)) {
          await writeFileAtomic(join(plainDir, kind, `${doc.id}.json`), `${JSON.stringify(doc, null, 2)}\n`, {
            fsync: true,
          });
        }
      },
      { iterations, rounds: 5, warmupRounds: 1 },
    );

    return withRatios([
      { name: 'create-agent workflow, memory store', value: inMemory, unit: 'ms' },
      { name: '4 files one by one (write-file-atomic)', value: oneByOne, unit: 'ms' },
      {
        name: 'create-agent workflow, file store',
        value: fileWorkflow,
        unit: 'ms',
        baseline: '4 files one by one (write-file-atomic)',
      },
      {
        name: 'create-agent workflow, file store + durable run log',
        value: fileWorkflowDurableLog,
        unit: 'ms',
        baseline: '4 files one by one (write-file-atomic)',
      },
    ]);
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

if (isMain(import.meta)) console.log(formatTable(await workflowBench()));
