import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ConfigurationService } from '../src/configuration/configuration-service.js';
import { workflow } from '../src/orchestration/builder.js';
import { WorkflowRunner } from '../src/orchestration/runner.js';
import { PostgresStore } from '../src/postgres/store.js';
import {
  dropSchema,
  freshSchema,
  inSchema,
  postgresUnavailable,
  TEST_POSTGRES_URL,
} from '../src/postgres/test-db.test-helper.js';
import { type BenchRow, formatTable, isMain, timeInTurns, timePerOp, withRatios } from './run.js';
import { agent, personality, role } from './workflow.bench.js';

/**
 * PostgreSQL (the server `.ci/run` starts, fsync on): create-agent with its durable run log
 * against one 4-row transaction; NOTIFY round trips; trivial runs across 4 instances.
 */
export async function postgresBench(): Promise<BenchRow[]> {
  const why = await postgresUnavailable();
  if (why) return [{ name: `skipped: ${why}`, value: 0, unit: '' }];
  const schema = freshSchema();
  const store = await PostgresStore.connect(inSchema(schema), { poolSize: 4 });
  const raw = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await raw.connect();
  await raw.query(`SET search_path TO ${schema}`);
  await raw.query('CREATE TABLE bench_rows (k text PRIMARY KEY, v json)');
  let n = 0;
  try {
    const fourRows = async () => {
      await raw.query('BEGIN');
      for (let i = 0; i < 4; i++)
        await raw.query('INSERT INTO bench_rows VALUES ($1, $2)', [`k${++n}`, JSON.stringify({ n })]);
      await raw.query('COMMIT');
    };
    const config = new ConfigurationService(store, { runLog: store.runLog() });
    const createAgent = () =>
      config.createAgent({ agent: agent(++n), personality: personality(n), role: role(n) });
    // Warmed up long enough for the engine's code to be optimized (a few rounds measure it cold).
    const turns = await timeInTurns({ fourRows, createAgent }, { rounds: 200, warmupRounds: 300 });
    // The time this process's main thread is busy per create-agent (validation, composition,
    // hashes, the run's records, the driver's sends), from its event loop's utilization: a
    // floor under its time that no fewer round trips can lower.
    const busyRuns = 200;
    const busyBefore = performance.eventLoopUtilization();
    for (let i = 0; i < busyRuns; i++) await createAgent();
    const busyMs = performance.eventLoopUtilization(busyBefore).active / busyRuns;

    // A cast of 5,000 agents (copies of one, with its personality, role and resolved file,
    // written directly): a create, and an update of a personality one agent uses, cost what
    // they cost on a small cast (a read by key or by an index, never a scan of every agent).
    const seed = { agent: agent(++n), personality: personality(n), role: role(n) };
    await config.createAgent(seed);
    await raw.query(
      `INSERT INTO troupe_documents (kind, id, revision, doc)
       SELECT d.kind, d.id || '-c' || g, d.revision, jsonb_set(d.doc::jsonb, '{id}', to_jsonb(d.id || '-c' || g))::json
       FROM generate_series(1, 5000) g, troupe_documents d WHERE d.id = ANY($1)`,
      [[seed.agent.id, seed.personality.id, seed.role.id]],
    );
    await raw.query('ANALYZE troupe_documents');
    const atScale = await timePerOp(createAgent, { iterations: 20, rounds: 3, warmupRounds: 1 });
    const updated = n;
    let u = 0;
    const updateAtScale = await timePerOp(
      () => config.updatePersonality(personality(updated - (u++ % 40)).id, { name: `Renamed ${u}` }),
      { iterations: 10, rounds: 3, warmupRounds: 1 },
    );

    // NOTIFY to another connection, through the change feed: commit → the watcher hears it.
    const other = await PostgresStore.connect(inSchema(schema), { poolSize: 2 });
    const stop = new AbortController();
    let heard: () => void = () => {};
    const feed = other.watch({ fromRevision: await other.feedPosition(), signal: stop.signal });
    void (async () => {
      for await (const _ of feed) heard();
    })();
    const notify = await timePerOp(
      async () => {
        const got = new Promise<void>((r) => {
          heard = r;
        });
        await store.put('models', { id: `m${++n}` });
        await got;
      },
      { iterations: 50, rounds: 5, warmupRounds: 1 },
    );
    const putOnly = await timePerOp(() => store.put('models', { id: `m${++n}` }), {
      iterations: 50,
      rounds: 5,
      warmupRounds: 1,
    });
    stop.abort();
    await other.close();

    // A queued run: from enqueue until its first step starts on a working instance (NOTIFY).
    const worker = await PostgresStore.connect(inSchema(schema), { poolSize: 3 });
    let stepStarted: () => void = () => {};
    const queued = workflow('queued').step('a', 's', 'a').build();
    const working = new AbortController();
    const work = worker
      .runQueue()
      .work(
        new WorkflowRunner({ services: { s: { a: async () => stepStarted() } }, runLog: worker.runLog() }),
        { signal: working.signal },
      );
    const queue = store.runQueue();
    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const began = new Promise<void>((r) => {
        stepStarted = r;
      });
      const t = performance.now();
      await queue.enqueue(queued, {});
      await began;
      if (i >= 10) latencies.push(performance.now() - t); // after warm-up
      await new Promise((r) => setTimeout(r, 5)); // the run ends; the worker is idle again
    }
    working.abort();
    await work;
    await worker.close();
    latencies.sort((a, b) => a - b);
    const enqueueToStep = latencies[Math.floor(latencies.length / 2)] ?? 0;

    // Trivial runs (one no-op step) across 4 instances, each its own pool and run log.
    const instances = await Promise.all(
      [0, 1, 2, 3].map(() => PostgresStore.connect(inSchema(schema), { poolSize: 3 })),
    );
    const def = workflow('trivial').step('a', 's', 'noop').build();
    const runners = instances.map(
      (s) => new WorkflowRunner({ services: { s: { noop: async () => 1 } }, runLog: s.runLog() }),
    );
    const RUNS = 100;
    const started = performance.now();
    await Promise.all(
      runners.map(async (r) => {
        for (let i = 0; i < RUNS; i++) await r.run(def, {});
      }),
    );
    const perSecond = (4 * RUNS) / ((performance.now() - started) / 1000);
    await Promise.all(instances.map((s) => s.close()));

    return withRatios([
      { name: 'one 4-row transaction (pg, fsync on)', value: turns.fourRows ?? 0, unit: 'ms' },
      {
        name: 'create-agent with its durable run log',
        value: turns.createAgent ?? 0,
        unit: 'ms',
        baseline: 'one 4-row transaction (pg, fsync on)',
      },
      {
        name: 'create-agent: main thread busy',
        value: busyMs,
        unit: 'ms',
        baseline: 'one 4-row transaction (pg, fsync on)',
      },
      {
        name: 'create-agent among 5,000 agents',
        value: atScale,
        unit: 'ms',
        baseline: 'create-agent with its durable run log',
      },
      {
        name: 'update-personality (1 agent) among 5,000',
        value: updateAtScale,
        unit: 'ms',
        baseline: 'create-agent with its durable run log',
      },
      { name: 'commit of one document', value: putOnly, unit: 'ms' },
      {
        name: 'commit heard by a watcher (NOTIFY)',
        value: notify,
        unit: 'ms',
        baseline: 'commit of one document',
      },
      {
        name: 'queued run: enqueue to first step (median)',
        value: enqueueToStep,
        unit: 'ms',
        baseline: 'commit of one document',
      },
      { name: 'trivial runs, 4 instances', value: perSecond, unit: 'runs/s' },
    ]);
  } finally {
    await raw.end();
    await store.close();
    await dropSchema(schema);
  }
}

if (isMain(import.meta)) console.log(formatTable(await postgresBench()));
