import { afterAll, describe, expect, it } from 'vitest';
import { ConfigurationService } from '../configuration/configuration-service.js';
import { agentInput, calm, failure, reviewer } from '../configuration/test-setup.test-helper.js';
import type { RunEvent } from '../orchestration/run-log.js';
import { MemoryStore } from '../storage/memory/store.js';
import { faulty, type Hook } from './faulty.test-helper.js';
import { instances, lastSchema } from './instances.test-helper.js';
import { PostgresStore } from './store.js';
import { postgresUnavailable, sharedPglite } from './test-db.test-helper.js';

afterAll(async () => (await sharedPglite()).close());

const engines = ['pglite', ...((await postgresUnavailable()) ? [] : ['postgres'])];

const request = (id: string) => ({
  agent: agentInput(id, { personalityId: `${id}-p`, roleId: `${id}-r` }),
  personality: { ...calm, id: `${id}-p` },
  role: { ...reviewer, id: `${id}-r` },
});

const isIntent = (e: RunEvent, stepId = 'persist') =>
  e.type === 'step' && e.kind === 'intent' && e.stepId === stepId;

/** A store and its run log over one database client passed through `hook`. */
async function hooked(engine: string, hook: Hook, afterTransaction?: () => void) {
  const [plain] = await instances(engine, 1);
  const store = await PostgresStore.over(faulty(plain!.sql, hook, afterTransaction), {
    schema: lastSchema() as string,
  });
  return { plain: plain!, config: new ConfigurationService(store, { runLog: store.runLog() }) };
}

describe.each(engines.map((e) => [e]))("a step's intent carried by its commit, on %s", (engine) => {
  it('is written by the very transaction that writes the documents', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!, { runLog: store!.runLog() });
    const { runId } = await config.createAgent(request('a'));
    const { rows } = await store!.sql.query<{ tx: string }>(
      `SELECT xmin::text AS tx FROM troupe_documents WHERE kind = 'agents' AND id = 'a'
       UNION ALL
       SELECT xmin::text FROM troupe_run_events
       WHERE run_id = $1 AND event->>'kind' = 'intent' AND event->>'stepId' = 'persist'`,
      [runId],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]!.tx).toBe(rows[1]!.tx);
  });

  it('is there for recovery when the instance dies right after the commit, and the write is undone', async () => {
    let wroteDocuments = false;
    let dead = false;
    const { plain, config } = await hooked(
      engine,
      async (text, run) => {
        if (dead) throw new Error('the instance is gone');
        if (text.includes('INSERT INTO troupe_documents')) wroteDocuments = true;
        return run();
      },
      () => {
        if (wroteDocuments) dead = true; // nothing after the commit reaches the database
      },
    );
    await failure(config.createAgent(request('late')));
    expect(dead).toBe(true);
    expect(await plain.get('agents', 'late')).toBeDefined(); // the commit happened
    const [run] = await plain.runLog().list();
    const record = await plain.runLog().read(run!.runId);
    expect(record?.events.some((e) => isIntent(e))).toBe(true);
    // Another instance recovers the run from that intent: nothing of the change is left.
    const other = new ConfigurationService(plain, { runLog: plain.runLog() });
    await other.recover({ force: [run!.runId] });
    for (const [kind, id] of [
      ['agents', 'late'],
      ['resolved', 'late'],
      ['personalities', 'late-p'],
      ['roles', 'late-r'],
    ] as const)
      expect(await plain.get(kind, id), `${kind}/${id}`).toBeUndefined();
  });

  it('is carried again by the retry of a commit that lost a race, and written once', async () => {
    let races = 1;
    let writes = false;
    const { plain, config } = await hooked(engine, async (text, run) => {
      if (text.includes('INSERT INTO troupe_history')) writes = true;
      // The commit loses a race once at its COMMIT, with its carried events in its transaction.
      if (text === 'COMMIT' && writes && races-- > 0)
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      if (text === 'COMMIT') writes = false;
      return run();
    });
    const { runId } = await config.createAgent(request('b'));
    expect(races).toBe(-1); // the race was lost once
    const record = await plain.runLog().read(runId);
    expect(record?.state).toBe('completed');
    const texts = record!.events.map((e) => JSON.stringify(e));
    expect(new Set(texts).size).toBe(texts.length); // no event written twice
    expect(record!.events.filter((e) => isIntent(e))).toHaveLength(1);
    expect(await plain.get('agents', 'b')).toBeDefined();
  });

  it('goes out on its own, once, when the commit carrying it fails, and the run changes nothing', async () => {
    let fail = true;
    let writes = false;
    const { plain, config } = await hooked(engine, async (text, run) => {
      if (text.includes('INSERT INTO troupe_history')) writes = true;
      // Every COMMIT of a change fails, its carried events in its transaction; the undo has nothing to do.
      if (text === 'COMMIT' && writes && fail) {
        writes = false;
        throw new Error('disk trouble');
      }
      return run();
    });
    const e = await failure(config.createAgent(request('d')));
    expect(e.message).toMatch(/disk trouble/);
    fail = false;
    const [run] = await plain.runLog().list();
    const record = await plain.runLog().read(run!.runId);
    expect(record?.state).not.toBe('completed');
    const texts = record!.events.map((x) => JSON.stringify(x));
    expect(new Set(texts).size).toBe(texts.length);
    expect(record!.events.some((x) => isIntent(x))).toBe(true);
    expect(await plain.get('agents', 'd')).toBeUndefined();
    expect(await plain.get('personalities', 'd-p')).toBeUndefined();
  });

  it('a COMMIT whose answer is lost, though it committed, is known for done: the change stands, its events once', async () => {
    let writes = false;
    let lose = true;
    const { plain, config } = await hooked(
      engine,
      async (text, run) => {
        if (text.includes('INSERT INTO troupe_history')) writes = true;
        return run();
      },
      () => {
        // The change's transaction committed; its answer never reaches the instance.
        if (writes && lose) {
          lose = false;
          throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
        }
        writes = false;
      },
    );
    const { runId } = await config.createAgent(request('e'));
    expect(lose).toBe(false); // the answer was lost
    const record = await plain.runLog().read(runId);
    expect(record?.state).toBe('completed');
    const texts = record!.events.map((x) => JSON.stringify(x));
    expect(texts.filter((t, i) => texts.indexOf(t) !== i)).toEqual([]); // no event written twice
    expect(record!.events.filter((x) => isIntent(x))).toHaveLength(1); // one attempt: no retry
    for (const [kind, id] of [
      ['agents', 'e'],
      ['resolved', 'e'],
      ['personalities', 'e-p'],
      ['roles', 'e-r'],
    ] as const)
      expect((await plain.get(kind, id))?.revision, `${kind}/${id}`).toBe(1);
  });

  it('is made durable before the commit of a store over another database', async () => {
    const [db] = await instances(engine, 1);
    const log = db!.runLog();
    const memory = new MemoryStore();
    let intentBeforeCommit: boolean | undefined;
    const commit = memory.commit.bind(memory);
    memory.commit = async (ops, opts) => {
      if (ops.some((o) => o.kind === 'agents')) {
        // What the database holds now, read by another log: the intent must be there already.
        const [run] = await db!.runLog().list();
        intentBeforeCommit = (await db!.runLog().read(run!.runId))?.events.some((e) => isIntent(e));
      }
      return commit(ops, opts);
    };
    const config = new ConfigurationService(memory, { runLog: log });
    await config.createAgent(request('c'));
    expect(intentBeforeCommit).toBe(true);
  });

  it('two writing steps of one run at once: one carries its intent, the other waits its turn', async () => {
    const [store] = await instances(engine, 1);
    const config = new ConfigurationService(store!, { runLog: store!.runLog() });
    await config.createPersonality(calm);
    await config.createRole(reviewer);
    const { workflow } = await import('../orchestration/builder.js');
    const { workflowInput } = await import('../orchestration/refs.js');
    const put = (id: string) => [
      {
        op: 'put',
        kind: 'models',
        doc: { id, provider: 'ollama', modelId: id, name: id, contextWindow: 1000 },
      },
    ];
    const def = workflow('two-at-once')
      .maxParallel(2)
      .step('one', 'file', 'persist', { input: { ops: workflowInput('one') } })
      .step('two', 'file', 'persist', { input: { ops: workflowInput('two') } })
      .build();
    const r = await config.run(def, { one: put('m-one'), two: put('m-two') });
    expect(r.status).toBe('completed');
    const record = await store!.runLog().read(r.runId);
    expect(record?.events.filter((e) => isIntent(e, 'one') || isIntent(e, 'two'))).toHaveLength(2);
    expect(await store!.get('models', 'm-one')).toBeDefined();
    expect(await store!.get('models', 'm-two')).toBeDefined();
  });
});
