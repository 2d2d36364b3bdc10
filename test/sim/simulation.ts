import fc from 'fast-check';
import { ConfigurationService } from '../../src/configuration/configuration-service.js';
import { STRATEGIES } from '../../src/configuration/conflict.js';
import type { AgentInput } from '../../src/domain/agent.js';
import { VirtualClock } from '../../src/orchestration/clock.js';
import { MemoryRunLog, type RunLog } from '../../src/orchestration/run-log.js';
import { MemoryStore } from '../../src/storage/memory/store.js';
import type { Store } from '../../src/storage/store.js';
import { createFakeServices, fakeHandlers } from '../../src/testing/fakes.js';
import { type Fault, FaultInjector } from '../../src/testing/faults.js';
import { A_IDS, applyOp, initialModel, type Model, matches, type Op, P_IDS, R_IDS } from './model.js';

/**
 * Seeded deterministic simulation: random sequences of operations, some run two at a time
 * with their store calls interleaved by fast-check's scheduler, under random faults (errors,
 * latency, hangs that a timeout ends, unavailability, a crash fault, and a real crash: the
 * process stops mid-operation and a new one recovers), all on a virtual clock. After every
 * step the store must equal the model moved by the acknowledged operations in some order, and
 * be consistent; a rejected operation changes nothing.
 */

/** Where a fault strikes: a service method or a workflow step's operation. */
/** Step operations run under the engine's timeouts; a hang is injected only there. */
const STEP_TARGETS = [3, 4, 5, 6];
const TARGETS: Array<[string, string]> = [
  ['personalities', '*'],
  ['agents', '*'],
  ['roles', '*'],
  ['personality', '*'],
  ['agent', '*'],
  ['configuration', '*'],
  ['file', '*'],
  ['store', 'commit'],
];

export type FaultPlan =
  | { kind: 'none' }
  | { kind: 'fault'; target: number; fault: Fault }
  /** The process stops at its `at`-th store write, before or after the write is applied. */
  | { kind: 'crash'; at: number; applied: boolean };

export interface Step {
  ops: Op[];
  fault: FaultPlan;
}

const pid = fc.constantFrom(...P_IDS);
const rid = fc.constantFrom(...R_IDS);
const aid = fc.constantFrom(...A_IDS);
const score = fc.integer({ min: 0, max: 100 });

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('createP' as const), id: pid, openness: score }),
  fc.record({
    t: fc.constant('updateP' as const),
    id: pid,
    humor: score,
    strategy: fc.constantFrom(...STRATEGIES),
    expected: fc.constantFrom('current' as const, 'stale' as const, 'none' as const),
  }),
  fc.record({
    t: fc.constant('deleteP' as const),
    id: pid,
    mode: fc.constantFrom('block' as const, 'cascade' as const, 'reassign' as const),
    to: pid,
  }),
  fc.record({
    t: fc.constant('updateR' as const),
    id: rid,
    prompt: fc.constantFrom('Be brief.', 'Be thorough.'),
  }),
  fc.record({ t: fc.constant('createA' as const), id: aid, p: pid, r: rid }),
  fc.record({ t: fc.constant('deleteA' as const), id: aid }),
  fc.record({
    t: fc.constant('bundle' as const),
    personalities: fc.uniqueArray(fc.record({ id: pid, openness: score }), {
      maxLength: 2,
      selector: (p) => p.id,
    }),
    agents: fc.uniqueArray(fc.record({ id: aid, p: pid, r: rid }), { maxLength: 2, selector: (a) => a.id }),
  }),
  fc.constant({ t: 'reconcile' as const }),
);

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({
    kind: fc.constant('error' as const),
    code: fc.constantFrom('TRANSIENT' as const, 'PERMANENT' as const, 'IO_ERROR' as const),
    times: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('latency' as const),
    ms: fc.integer({ min: 1, max: 20_000 }),
    times: fc.constant(2),
  }),
  fc.record({ kind: fc.constant('hang' as const), times: fc.constant(1) }),
  fc.constant({ kind: 'unavailable' as const }),
  fc.record({ kind: fc.constant('crash' as const), times: fc.constant(1) }),
);

const planArb: fc.Arbitrary<FaultPlan> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      target: fc.integer({ min: 0, max: TARGETS.length - 1 }),
      fault: faultArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      at: fc.integer({ min: 1, max: 3 }),
      applied: fc.boolean(),
    }),
  },
);

export const stepArb: fc.Arbitrary<Step> = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 2 }),
  fault: planArb,
});

export const caseArb = fc.tuple(fc.array(stepArb, { minLength: 1, maxLength: 6 }), fc.scheduler());

/** A store that, armed, stops the process at its n-th write: the call never returns. */
function crashing(inner: Store) {
  let armed: { at: number; applied: boolean } | undefined;
  let writes = 0;
  let crashed = false;
  const never = new Promise<never>(() => {});
  const write =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (crashed) return never;
      if (armed && ++writes === armed.at) {
        // The process dies once this write has landed (or before it starts): nothing after.
        if (armed.applied) await fn(...a);
        crashed = true;
        return never;
      }
      return fn(...a);
    };
  const store: Store = {
    get: (k, id) => (crashed ? never : inner.get(k, id)),
    list: (k) => (crashed ? never : inner.list(k)),
    put: write((k, d, o) => inner.put(k, d, o)),
    delete: write((k, id, o) => inner.delete(k, id, o)),
    commit: write((ops) => inner.commit(ops)),
    close: () => Promise.resolve(),
  };
  return {
    store,
    arm: (plan: { at: number; applied: boolean } | undefined) => {
      armed = plan;
      writes = 0;
    },
    get crashed() {
      return crashed;
    },
  };
}

/** One process: a ConfigurationService over fakes (faults, the scheduler) on its own clock. */
function processOver(inner: Store, runLog: MemoryRunLog, s: fc.Scheduler) {
  const clock = new VirtualClock();
  const faults = new FaultInjector({ clock });
  // Every store call resolves when the scheduler says: concurrent operations interleave there.
  // The crash sits outside, so a dead process's calls never reach the scheduler.
  const scheduled: Store = {
    get: s.scheduleFunction((k, id) => inner.get(k, id)),
    list: s.scheduleFunction((k) => inner.list(k)),
    put: s.scheduleFunction((k, d, o) => inner.put(k, d, o)),
    delete: s.scheduleFunction((k, id, o) => inner.delete(k, id, o)),
    commit: s.scheduleFunction((ops) => inner.commit(ops)),
    close: () => Promise.resolve(),
  };
  const crash = crashing(scheduled);
  const fakes = createFakeServices({ store: crash.store, faults, clock });
  // A dead process records nothing more either.
  const never = new Promise<never>(() => {});
  const ownLog: RunLog = {
    append: (id, e) => (crash.crashed ? never : runLog.append(id, e)),
    read: (id) => runLog.read(id),
    list: () => runLog.list(),
    claim: (id, o) => (crash.crashed ? never : runLog.claim(id, o)),
    renew: (l) => (crash.crashed ? Promise.resolve(false) : runLog.renew(l)),
    release: (l) => (crash.crashed ? never : runLog.release(l)),
    isHeld: (id) => runLog.isHeld(id),
  };
  const config = new ConfigurationService(fakes.store, {
    services: fakes.services,
    clock,
    runLog: ownLog,
    wrapHandlers: (h) => fakeHandlers(h, faults, clock),
  });
  return { clock, faults, crash, config };
}

type Proc = ReturnType<typeof processOver>;

/** Run states a recovery leaves alone: finished for good. */
const DONE = new Set(['completed', 'failed', 'compensated']);

async function revisionOf(inner: Store, id: string): Promise<number | undefined> {
  return (await inner.get('personalities', id))?.revision;
}

const bigFive = (openness: number) => ({
  openness,
  conscientiousness: 50,
  extraversion: 50,
  agreeableness: 50,
  neuroticism: 50,
});

async function invoke(c: ConfigurationService, op: Op, expected: number | undefined): Promise<unknown> {
  switch (op.t) {
    case 'createP':
      return c.createPersonality({ id: op.id, name: op.id.toUpperCase(), bigFive: bigFive(op.openness) });
    case 'updateP':
      return c.updatePersonality(
        op.id,
        { behaviors: { humor: op.humor } },
        { ...(expected !== undefined ? { expectedRevision: expected } : {}), strategy: op.strategy },
      );
    case 'deleteP':
      return c.deletePersonality(
        op.id,
        op.mode === 'reassign' ? { mode: 'reassign', to: op.to } : { mode: op.mode },
      );
    case 'updateR':
      return c.updateRole(op.id, { systemPrompt: op.prompt });
    case 'createA':
      return c.createAgent({ agent: agentInput(op) });
    case 'deleteA':
      return c.deleteAgent(op.id);
    case 'bundle':
      return c.applyBundle({
        personalities: op.personalities.map((p) => ({
          id: p.id,
          name: p.id.toUpperCase(),
          bigFive: bigFive(p.openness),
        })),
        agents: op.agents.map(agentInput),
      });
    case 'reconcile':
      return c.reconcile();
  }
}

const agentInput = (a: { id: string; p: string; r: string }): AgentInput => ({
  id: a.id,
  name: a.id.toUpperCase(),
  personalityId: a.p,
  roleId: a.r,
  model: { provider: 'openai', modelId: 'gpt-4o' },
});

/** The store, read as the model sees it. */
async function project(store: Store): Promise<Model> {
  const m: Model = { personalities: new Map(), roles: new Map(), agents: new Map() };
  for (const d of await store.list('personalities')) {
    const doc = d as unknown as { id: string; bigFive: { openness: number }; behaviors?: { humor?: number } };
    m.personalities.set(doc.id, { openness: doc.bigFive.openness, humor: doc.behaviors?.humor });
  }
  for (const d of await store.list('roles')) {
    const doc = d as unknown as { id: string; systemPrompt: string; predefined?: boolean };
    if (R_IDS.includes(doc.id)) m.roles.set(doc.id, { prompt: doc.systemPrompt });
  }
  for (const d of await store.list('agents')) {
    const doc = d as unknown as { id: string; personalityId: string; roleId: string };
    m.agents.set(doc.id, { p: doc.personalityId, r: doc.roleId });
  }
  return m;
}

/** Runs until every promise settles: the scheduler first, then the clock's next timer. */
async function drive(proc: Proc, s: fc.Scheduler, running: Promise<unknown>[]): Promise<void> {
  let done = false;
  const all = Promise.allSettled(running).then(() => {
    done = true;
  });
  for (let guard = 0; !done; guard++) {
    if (guard > 20_000) throw new Error('the simulation did not settle');
    await proc.clock.settle();
    if (done) break;
    if (s.count() > 0) await s.waitOne();
    else if (proc.clock.pendingTimers > 0) await proc.clock.advanceTo(proc.clock.nextTimerAt!);
    else if (proc.crash.crashed)
      return; // the process is dead: what it was doing never ends
    else await new Promise((r) => setImmediate(r));
  }
  await all;
}

/** Every order of the acknowledged operations that explains the store; the failure otherwise. */
function explain(
  model: Model,
  outcomes: Array<{ op: Op; ok: boolean | undefined; stale: boolean | undefined }>,
  store: Model,
): Model | string {
  const acked = outcomes.filter((o) => o.ok !== false);
  const orders = acked.length === 2 ? [acked, [acked[1]!, acked[0]!]] : [acked];
  const why: string[] = [];
  for (const order of orders) {
    // An operation of unknown outcome (a crashed process) may or may not have happened.
    const variants: Model[] = [model];
    let reason: string | undefined;
    for (const { op, ok, stale } of order) {
      const next: Model[] = [];
      for (const v of variants) {
        const moved = applyOp(v, op, stale ?? false);
        const movedAlt = stale === undefined ? applyOp(v, op, true) : moved;
        for (const r of new Set([moved, movedAlt])) {
          if (typeof r === 'string') {
            if (ok === true) reason = `${op.t} was acknowledged, but ${r}`;
          } else next.push(r);
        }
        if (ok === undefined) next.push(v);
      }
      variants.splice(0, variants.length, ...next);
    }
    for (const v of variants) if (!matches(store, v)) return v;
    why.push(reason ?? matches(store, variants[0] ?? model) ?? 'no order fits');
  }
  return why.join('; ');
}

/** Whether a failed run reports that its undo was skipped, leaving the change in place whole. */
function keptWhole(e: unknown): boolean {
  const failures = (e as { context?: { compensationFailures?: unknown } })?.context?.compensationFailures;
  if (!Array.isArray(failures)) return false;
  return failures.some(
    (f: { error?: { context?: { skipped?: unknown[] } } }) => (f.error?.context?.skipped ?? []).length > 0,
  );
}

/** Runs one case; throws with what broke. */
export async function runCase(steps: Step[], s: fc.Scheduler): Promise<void> {
  const inner = new MemoryStore();
  const runLog = new MemoryRunLog();
  let proc = processOver(inner, runLog, s);
  {
    const c = new ConfigurationService(inner);
    const m = initialModel();
    for (const [id, p] of m.personalities)
      await c.createPersonality({
        id,
        name: id.toUpperCase(),
        bigFive: bigFive(p.openness),
        behaviors: { humor: 50 },
      });
    for (const [id, r] of m.roles) await c.createRole({ id, name: id.toUpperCase(), systemPrompt: r.prompt });
    for (const [id, a] of m.agents) await c.createAgent({ agent: agentInput({ id, ...a }) });
  }
  let model = initialModel();
  for (const [i, step] of steps.entries()) {
    const where = `step ${i + 1} (${step.ops.map((o) => o.t).join(' ‖ ')}, fault ${JSON.stringify(step.fault)})`;
    if (step.fault.kind === 'fault') {
      const { fault } = step.fault;
      const target =
        fault.kind === 'hang' ? STEP_TARGETS[step.fault.target % STEP_TARGETS.length]! : step.fault.target;
      const [service, operation] = TARGETS[target]!;
      proc.faults.inject(service, operation, fault);
    }
    if (step.fault.kind === 'crash') proc.crash.arm(step.fault);
    const outcomes = await Promise.all(
      step.ops.map(async (op) => {
        const rev = op.t === 'updateP' ? await revisionOf(inner, op.id) : undefined;
        const expected =
          op.t !== 'updateP' || rev === undefined || op.expected === 'none'
            ? undefined
            : op.expected === 'stale' && rev > 1
              ? rev - 1
              : rev;
        // Run two at once, and a revision read at the start may be behind by the time it writes.
        const stale = expected === undefined ? false : step.ops.length > 1 ? undefined : expected !== rev;
        return { op, expected, stale, ok: undefined as boolean | undefined };
      }),
    );
    const running = outcomes.map((o) =>
      invoke(proc.config, o.op, o.expected).then(
        () => {
          o.ok = true;
        },
        (e: unknown) => {
          // A failed change whose undo met another writer's change built on it is kept whole
          // and says so: it happened. Any other failure changed nothing.
          o.ok = keptWhole(e) ? undefined : false;
        },
      ),
    );
    await drive(proc, s, running);
    if (proc.crash.crashed) {
      // The process died mid-operation: a new one, with no faults, recovers what it left.
      const dead = outcomes.filter((o) => o.ok === undefined);
      proc = processOver(inner, runLog, s);
      const unfinished = async () => (await runLog.list()).filter((r) => !DONE.has(r.state));
      const force = (await unfinished()).map((r) => r.runId);
      // The dead process's leases died with it.
      for (const id of force) runLog.abandon(id);
      await drive(proc, s, [proc.config.recover({ force })]);
      const left = await unfinished();
      if (left.length)
        throw new Error(
          `${where}: recovery left ${left.map((r) => `${r.workflowId} ${r.state}`).join(', ')}`,
        );
      for (const o of dead) o.ok = undefined;
    }
    proc.faults.reset();
    proc.crash.arm(undefined);
    const stored = await project(inner);
    const next = explain(model, outcomes, stored);
    if (typeof next === 'string') throw new Error(`${where}: ${next}`);
    model = next;
    const problems = await new ConfigurationService(inner).detectInconsistencies();
    if (problems.length)
      throw new Error(`${where}: inconsistent: ${problems.map((p) => p.message).join('; ')}`);
  }
}

/** The fast-check property: every case holds. */
export const simulation = fc.asyncProperty(caseArb, async ([steps, s]) => {
  await runCase(steps, s);
});
