import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentHolder, holderState } from '../platform/holder.js';
import type { PostgresRunLog } from '../postgres/run-log.js';
import { PostgresStore } from '../postgres/store.js';
import {
  freshSchema,
  postgresUnavailable,
  sharedPglite,
  TEST_POSTGRES_URL,
} from '../postgres/test-db.test-helper.js';
import { workflow } from './builder.js';
import { FileRunLog } from './file-run-log.js';
import { MemoryRunLog, type RunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

let dir: string;
const opened: PostgresStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-lease-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(async () => (await sharedPglite()).close());
const pgUnavailable = await postgresUnavailable();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (polling, up to 10 s) until the run's log shows its `wait` step running: it wrote, and waits. */
async function untilWaiting(log: RunLog, runId: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const r = await log.read(runId);
    if (r?.steps.find((st) => st.stepId === 'wait')?.status === 'running') return;
    await sleep(10);
  }
  throw new Error(`run ${runId} never reached its wait step`);
}

describe('holders', () => {
  it('a live process on this host is alive; once killed, dead; another host cannot be checked', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    const h = { pid: child.pid as number, host: hostname() };
    expect(holderState(h)).toBe('alive');
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(holderState(h)).toBe('dead');
    expect(holderState({ pid: 1, host: `${hostname()}-elsewhere` })).toBe('elsewhere');
    expect(holderState(currentHolder())).toBe('self');
  });

  it('a reused pid is not the holder: a live process that started at another time is dead to it', () => {
    expect(currentHolder().started).toMatch(/^\d+$/); // Linux: read from the process table
    expect(holderState({ pid: process.ppid, host: hostname(), started: '1' })).toBe('dead');
    expect(holderState({ pid: process.pid, host: hostname(), started: '1' })).toBe('dead');
    expect(holderState({ pid: process.ppid, host: hostname() })).toBe('alive');
  });
});

/** A run that writes, then waits at a gate the test opens. */
function gated() {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const undone: string[] = [];
  const services = {
    s: {
      write: async () => 'written',
      wait: async () => gate,
      undo: async () => {
        undone.push('write');
      },
    },
  };
  const def = workflow('w')
    .step('write', 's', 'write', { compensate: { operation: 'undo' } })
    .step('wait', 's', 'wait', { dependsOn: ['write'] })
    .build();
  return { open: () => open(), undone, services, def };
}

const kinds = ['memory', 'file', 'pglite', ...(pgUnavailable ? [] : ['postgres'])];
describe.each(kinds.map((k) => [k]))('leases of a %s run log', (kind) => {
  /** Two run logs over one store of runs: in PostgreSQL, two instances with pools of their own. */
  const pair = async (leaseMs?: number): Promise<[RunLog, RunLog]> => {
    const opts = leaseMs === undefined ? {} : { leaseMs };
    if (kind === 'memory') {
      const shared = new MemoryRunLog(opts);
      return [shared, shared];
    }
    if (kind === 'file') return [new FileRunLog(dir, opts), new FileRunLog(dir, opts)];
    const schema = freshSchema();
    const open = () =>
      kind === 'pglite'
        ? sharedPglite().then((db) => PostgresStore.pglite(db, { schema }))
        : PostgresStore.connect(TEST_POSTGRES_URL, { schema, poolSize: 4 });
    const a = await open();
    const b = await open();
    opened.push(a, b);
    return [a.runLog(opts), b.runLog(opts)];
  };

  it("one runner's recovery leaves another runner's live run alone, in one process", async () => {
    const [la, lb] = await pair();
    const g = gated();
    const a = new WorkflowRunner({ services: g.services, runLog: la });
    const b = new WorkflowRunner({ services: g.services, runLog: lb });
    const running = a.run(g.def, undefined, { runId: 'l-1' });
    await untilWaiting(lb, 'l-1');
    const [summary] = await lb.list();
    expect(summary?.state).toBe('running');
    expect(await lb.isHeld(summary?.runId as string)).toBe(true);
    expect(await b.recoverInterrupted()).toEqual([]);
    g.open();
    expect((await running).status).toBe('completed');
    expect(g.undone).toEqual([]);
    expect(await lb.isHeld(summary?.runId as string)).toBe(false);
  });

  it('a lease no one renews runs out, and then another runner takes the run over and undoes it', async () => {
    const [la, lb] = await pair(30);
    const g = gated();
    const a = new WorkflowRunner({ services: g.services, runLog: la, newRunId: () => 'r-1' });
    void a.run(g.def);
    await untilWaiting(la, 'r-1');
    // The holder dies: its renewals stop (what the OS does to a killed process).
    if (la instanceof MemoryRunLog) la.abandon('r-1');
    else await (la as FileRunLog | PostgresRunLog).close();
    const b = new WorkflowRunner({ services: g.services, runLog: lb });
    await sleep(60);
    const [r] = await b.recoverInterrupted();
    expect(r?.status).toBe('compensated');
    expect(g.undone).toEqual(['write']);
    const record = await lb.read('r-1');
    expect(record?.epoch).toBe(2);
    expect(record?.events.filter((e) => e.type === 'claimed')).toHaveLength(1);
  });

  it("fences a zombie: the old holder's lines after another's claim are not part of the run", async () => {
    const [la, lb] = await pair();
    const lease = await la.claim('z-1', { fresh: true });
    expect(lease?.epoch).toBe(1);
    const def = workflow('w').step('a', 's', 'a').build();
    await la.append('z-1', {
      type: 'created',
      at: 1,
      runId: 'z-1',
      workflowId: 'w',
      definition: def,
      input: {},
      epoch: 1,
    });
    await la.append('z-1', { type: 'state', at: 2, from: null, to: 'running', epoch: 1 });
    // What the holder wrote so far is in the log (a read waits for lines still on their way).
    await la.read('z-1');
    // Another runner takes it (forced: the zombie still looks alive) and records its claim.
    const taken = await lb.claim('z-1', { force: true });
    expect(taken?.epoch).toBe(2);
    await lb.append('z-1', { type: 'claimed', at: 3, holder: currentHolder(), epoch: 2 });
    // The zombie goes on as if nothing happened; its renewal says it lost the run.
    await la.append('z-1', { type: 'state', at: 4, from: 'running', to: 'completed', epoch: 1 });
    expect(await la.renew(lease as NonNullable<typeof lease>)).toBe(false);
    await lb.append('z-1', { type: 'state', at: 5, from: 'running', to: 'compensating', epoch: 2 });
    const record = await lb.read('z-1');
    expect(record?.states.map((s) => s.state)).toEqual(['running', 'compensating']);
    expect(record?.epoch).toBe(2);
  });

  it('claims are exclusive: of concurrent claims of one run, one wins', async () => {
    const [la, lb] = await pair();
    const fresh = await Promise.all([la.claim('c-1', { fresh: true }), lb.claim('c-1', { fresh: true })]);
    expect(fresh.filter(Boolean)).toHaveLength(1);
    const won = fresh.find(Boolean) as NonNullable<(typeof fresh)[number]>;
    expect(await la.claim('c-1')).toBeUndefined(); // held
    await (won === fresh[0] ? la : lb).release(won);
    const again = await Promise.all([la.claim('c-1'), lb.claim('c-1'), la.claim('c-1')]);
    expect(again.filter(Boolean)).toHaveLength(1);
  });
});

const distLog = fileURLToPath(new URL('../../dist/orchestration/file-run-log.js', import.meta.url));

describe('leases across processes', () => {
  it('of 8 processes claiming one run whose holder was killed, exactly one gets it', async () => {
    // A run whose lease holder is a process that has exited.
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(dead, 'exit');
    const holder = { pid: dead.pid as number, host: hostname() };
    await writeFile(
      join(dir, 'k-1.lease.1'),
      JSON.stringify({ runId: 'k-1', epoch: 1, token: 't', holder, expiresAt: Date.now() + 60_000 }),
    );
    // Each claims, says how it went, and stays alive holding what it won until told to go.
    const script = `import(${JSON.stringify(distLog)}).then(async ({ FileRunLog }) => {
      const log = new FileRunLog(${JSON.stringify(dir)});
      const lease = await log.claim('k-1');
      process.stdout.write(lease ? 'won ' + lease.epoch + '\\n' : 'lost\\n');
      process.stdin.on('end', () => process.exit(0)).resume();
    });`;
    const children = Array.from({ length: 8 }, () =>
      spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const outs = await Promise.all(
      children.map(
        (c) =>
          new Promise<string>((resolve) => {
            let out = '';
            c.stdout.on('data', (d) => {
              out += d;
              if (out.endsWith('\n')) resolve(out.trim());
            });
          }),
      ),
    );
    for (const c of children) c.stdin.end();
    await Promise.all(children.map((c) => once(c, 'exit')));
    expect(outs.filter((o) => o.startsWith('won'))).toEqual(['won 2']);
    expect(outs.filter((o) => o === 'lost')).toHaveLength(7);
    expect((await readdir(dir)).sort()).toEqual(['k-1.lease.2']); // the dead holder's lease is over
  });
});

describe('a run finished between recovery reading it and claiming it', () => {
  it('is not undone: recovery reads it again under the lease', async () => {
    const log = new MemoryRunLog();
    const g = gated();
    const a = new WorkflowRunner({ services: g.services, runLog: log, newRunId: () => 'f-1' });
    const running = a.run(g.def);
    await untilWaiting(log, 'f-1');
    // Recovery has read f-1 as running; as it claims, the holder finishes and lets go.
    const racing: RunLog = {
      append: (id, e) => log.append(id, e),
      read: (id) => log.read(id),
      list: () => log.list(),
      renew: (l) => log.renew(l),
      release: (l) => log.release(l),
      isHeld: (id) => log.isHeld(id),
      claim: async (id, o) => {
        g.open();
        await running;
        return log.claim(id, o);
      },
    };
    const b = new WorkflowRunner({ services: g.services, runLog: racing });
    expect(await b.recoverInterrupted()).toEqual([]);
    expect((await log.read('f-1'))?.state).toBe('completed');
    expect(g.undone).toEqual([]);
  });
});

describe('file leases after a release', () => {
  it('a run released by a live process is free at once: not held by the process its log names', async () => {
    // The run was started by another process that is still alive, and gave its lease back.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      const log = new FileRunLog(dir);
      const lease = await log.claim('p-1', { fresh: true });
      const def = workflow('w').step('a', 's', 'a').build();
      const owner = { pid: child.pid as number, host: hostname() };
      await log.append('p-1', {
        type: 'created',
        at: 1,
        runId: 'p-1',
        workflowId: 'w',
        definition: def,
        input: {},
        owner,
        epoch: 1,
      });
      await log.append('p-1', { type: 'state', at: 2, from: null, to: 'partially-completed', epoch: 1 });
      await log.release(lease as NonNullable<typeof lease>);
      const other = new FileRunLog(dir);
      expect(await other.isHeld('p-1')).toBe(false);
      expect((await other.claim('p-1'))?.epoch).toBe(2);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it("a takeover's release does not bring the earlier holder's lease back", async () => {
    const a = new FileRunLog(dir);
    const b = new FileRunLog(dir);
    const first = await a.claim('t-1', { fresh: true });
    const taken = await b.claim('t-1', { force: true });
    expect([first?.epoch, taken?.epoch]).toEqual([1, 2]);
    await b.release(taken as NonNullable<typeof taken>);
    // The first holder is alive (this process) but lost the run: nothing binds any more.
    expect(await b.isHeld('t-1')).toBe(false);
    expect(await a.renew(first as NonNullable<typeof first>)).toBe(false);
    expect((await b.claim('t-1'))?.epoch).toBeGreaterThan(2);
  });

  it('a lease file from before the machine started binds no one, whoever has its pid now', async () => {
    const holder = { pid: process.ppid, host: hostname() };
    const file = join(dir, 'b-1.lease.1');
    await writeFile(
      file,
      JSON.stringify({ runId: 'b-1', epoch: 1, token: 't', holder, expiresAt: Date.now() + 60_000 }),
    );
    const log = new FileRunLog(dir);
    expect(await log.isHeld('b-1')).toBe(true);
    await utimes(file, new Date(0), new Date(0));
    expect(await log.isHeld('b-1')).toBe(false);
  });

  it('a fresh claim of an id whose run already finished is refused', async () => {
    const log = new FileRunLog(dir);
    await writeFile(join(dir, 'd-1.done.jsonl'), '');
    expect(await log.claim('d-1', { fresh: true })).toBeUndefined();
    expect(await readdir(dir)).toEqual(['d-1.done.jsonl']);
  });
});
