import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { VirtualClock } from '../orchestration/clock.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, failure, reviewer, seeded } from './test-setup.test-helper.js';

/** Replaces one operation so it fails with `code` `times` times, after letting `pass` calls through. */
const failing = (
  service: string,
  operation: string,
  code: TroupeError['code'],
  times = Infinity,
  pass = 0,
) => {
  let n = -pass;
  return (h: ServiceHandlers): ServiceHandlers => ({
    ...h,
    [service]: {
      ...h[service],
      [operation]: async (input, ctx) => {
        if (n++ >= 0 && n <= times) throw new TroupeError(code, `${service}.${operation} failed (${code})`);
        return h[service]![operation]!(input, ctx);
      },
    },
  });
};

async function withFault(wrap: (h: ServiceHandlers) => ServiceHandlers) {
  const { store } = await seeded();
  const clock = new VirtualClock();
  const config = new ConfigurationService(store, {
    clock,
    now: () => Date.parse('2026-02-01T00:00:00Z'),
    wrapHandlers: wrap,
  });
  return { store, clock, config };
}

const snapshot = async (store: MemoryStore) => {
  const out: Record<string, unknown[]> = {};
  for (const k of ['personalities', 'roles', 'agents', 'resolved'] as const) {
    out[k] = (await store.list(k)).map(({ revision: _r, updatedAt: _u, createdAt: _c, ...body }) => body);
  }
  return out;
};

describe('built-in workflows', () => {
  it('create-agent records its steps and state transitions in the run log', async () => {
    const { config } = await seeded();
    const { runId } = await config.createAgent({ agent: agentInput('a3') });
    const run = await config.showRun(runId);
    expect(run!.states.map((s) => s.state)).toEqual(['pending', 'running', 'completed']);
    expect(run!.steps.map((st) => st.stepId)).toEqual(['personality', 'role', 'agent', 'persist', 'verify']);
  });

  it('a failing consistency check compensates the agent creation: nothing is left', async () => {
    const { store, clock, config } = await withFault(failing('configuration', 'verify', 'PERMANENT'));
    const before = await snapshot(store);
    const e = await failure(
      clock.drive(
        config.createAgent({ agent: agentInput('a3'), personality: { ...calm, id: 'new-p', name: 'New' } }),
      ),
    );
    expect(e.code).toBe('PERMANENT');
    expect(e.context).toMatchObject({ stepId: 'verify', status: 'compensated', compensated: ['persist'] });
    expect(await snapshot(store)).toEqual(before);
  });

  it('a transient failure is retried with backoff and the run completes', async () => {
    const { clock, config } = await withFault(failing('file', 'persist', 'TRANSIENT', 2));
    const r = await clock.drive(config.createAgent({ agent: agentInput('a3') }));
    const run = await config.showRun(r.runId);
    const attempts = run!.steps.find((st) => st.stepId === 'persist')!.attempts;
    expect(attempts).toHaveLength(3);
    expect(attempts[1]!.startedAt - attempts[0]!.startedAt).toBeGreaterThanOrEqual(37);
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('a failing consistency check rolls back a cascading update across every agent', async () => {
    const { store, clock, config } = await withFault(failing('configuration', 'verify', 'PERMANENT'));
    const e = await failure(clock.drive(config.updatePersonality('calm', { bigFive: { openness: 99 } })));
    // One commit wrote the personality, its agents and their resolved files: one undo restores all.
    expect(e.context.compensated).toEqual(['update']);
    expect((await config.services.personalities.require('calm')).bigFive.openness).toBe(60);
    expect(await config.detectInconsistencies()).toEqual([]);
    const hashes = (await store.list('agents')).map((a) => a.configurationHash);
    const fresh = await seeded();
    expect(hashes).toEqual((await fresh.store.list('agents')).map((a) => a.configurationHash));
  });

  it('delete refused while in use fails at once and changes nothing', async () => {
    const { store, config } = await seeded();
    const before = await snapshot(store);
    const e = await failure(config.deletePersonality('calm'));
    expect(e.code).toBe('REFERENCE_IN_USE');
    expect(e.context.agents).toEqual(['a1', 'a2']);
    expect(await snapshot(store)).toEqual(before);
  });

  it.each([
    ['the delete step', 'personality', 'remove', 0],
    ['the consistency check', 'configuration', 'verify', 1], // the update below runs verify once
  ])(
    'a cascade delete failing at %s restores personality and agents exactly',
    async (_, service, operation, pass) => {
      const { store, clock, config } = await withFault(
        failing(service, operation, 'PERMANENT', Infinity, pass),
      );
      await clock.drive(config.updatePersonality('calm', { name: 'Calm too' })); // revision 2, agents composed against it
      const before = await snapshot(store);
      const exact = await store.list('personalities');
      await failure(clock.drive(config.deletePersonality('calm', { mode: 'cascade' })));
      expect(await snapshot(store)).toEqual(before);
      // Brought back exactly: same revision and timestamps, so its agents are not stale.
      expect(await store.list('personalities')).toEqual(exact);
      expect(await config.detectInconsistencies()).toEqual([]);
    },
  );

  it('a 500-entity bundle applies completely, and a failing commit applies none of it', async () => {
    const bundle = {
      personalities: Array.from({ length: 100 }, (_, i) => ({ ...calm, id: `p${i}`, name: `P${i}` })),
      roles: Array.from({ length: 100 }, (_, i) => ({ ...reviewer, id: `r${i}`, name: `R${i}` })),
      agents: Array.from({ length: 300 }, (_, i) =>
        agentInput(`x${i}`, { personalityId: `p${i % 100}`, roleId: `r${i % 100}` }),
      ),
    };
    const bad = await withFault(failing('configuration', 'verify', 'PERMANENT'));
    const before = await snapshot(bad.store);
    await failure(bad.clock.drive(bad.config.applyBundle(bundle)));
    expect(await snapshot(bad.store)).toEqual(before);
    const { config, store } = await seeded();
    const r = await config.applyBundle(bundle);
    expect(r.changes.filter((c) => c.action === 'create')).toHaveLength(500);
    expect(await store.list('agents')).toHaveLength(302);
    expect(await config.detectInconsistencies()).toEqual([]);
  });
});

describe('rollback of a bundle that changed a personality', () => {
  it('re-composes its agents: the directory is as consistent as before', async () => {
    const { store, clock, config } = await withFault(failing('configuration', 'verify', 'PERMANENT'));
    const hashes = async () => (await store.list('agents')).map((a) => a.configurationHash);
    const before = { personalities: (await snapshot(store)).personalities, hashes: await hashes() };
    const bundle = { personalities: [{ ...calm, bigFive: { ...calm.bigFive, openness: 95 } }] };
    await failure(clock.drive(config.applyBundle(bundle)));
    // Old content back, agents re-composed against it (same prompts, newer revision numbers).
    expect({ personalities: (await snapshot(store)).personalities, hashes: await hashes() }).toEqual(before);
    expect(await config.detectInconsistencies()).toEqual([]);
  });
});

describe('an agent write racing a personality change', () => {
  it('is refused by its guards at commit, re-run, and composed against the new personality', async () => {
    const { store, config } = await seeded();
    const commit = store.commit.bind(store);
    let raced = false;
    store.commit = async (ops) => {
      if (!raced && ops.some((o) => o.op === 'put' && o.kind === 'agents')) {
        raced = true; // another process changes the personality between read and commit
        const p = (await store.get('personalities', 'calm'))!;
        await commit([{ op: 'put', kind: 'personalities', doc: { ...p, description: 'changed meanwhile' } }]);
      }
      return commit(ops);
    };
    const r = await config.updateAgent('a1', { name: 'Renamed' });
    const a1 = await config.services.agents.require('a1');
    expect(a1.personalityVersion).toBe((await store.get('personalities', 'calm'))!.revision);
    expect((await config.detectInconsistencies()).filter((f) => f.entity === 'a1')).toEqual([]);
    const step = (await config.showRun(r.runId))!.steps.find((st) => st.stepId === 'agent')!;
    expect(step.output).toMatchObject({ replans: 1 });
  });
});

describe('a step that times out but writes anyway', () => {
  it('is undone once its call settles: a failed run leaves nothing behind', async () => {
    // persist records its intent, then stalls past its timeout (a slow lock), then commits.
    const slow = (h: ServiceHandlers): ServiceHandlers => ({
      ...h,
      file: {
        ...h.file,
        persist: (input, ctx) =>
          h.file!.persist!(input, {
            ...ctx,
            intent: async (d) => {
              await ctx.intent?.(d);
              await ctx.clock.sleep(45_000); // ignores the abort: the write still happens
            },
          }),
      },
    });
    const { store, clock, config } = await withFault(slow);
    const before = await snapshot(store);
    const e = await failure(clock.drive(config.createAgent({ agent: agentInput('late') })));
    expect(e.code).toBe('TIMEOUT');
    expect(await store.get('agents', 'late')).toBeUndefined();
    expect(await snapshot(store)).toEqual(before);
    expect(await config.detectInconsistencies()).toEqual([]);
  });
});

describe('concurrent updates of one personality', () => {
  const race = async () => {
    const { config } = await seeded();
    // Writer A read revision 1 and commits first.
    await config.updatePersonality(
      'calm',
      { bigFive: { openness: 80, extraversion: 50 } },
      { expectedRevision: 1 },
    );
    const base = config.services.personalities.editable(
      (await config.services.personalities.require('calm')) as never,
    ) as Record<string, unknown>;
    return {
      config,
      base: { ...base, bigFive: { ...(base.bigFive as object), openness: 60, extraversion: 30 } },
    };
  };
  const writerB = { bigFive: { openness: 40, extraversion: 30, agreeableness: 90 } };

  it('reject (default): the second writer gets CONCURRENT_MODIFICATION naming both revisions', async () => {
    const { config } = await race();
    const e = await failure(config.updatePersonality('calm', writerB, { expectedRevision: 1 }));
    expect(e.code).toBe('CONCURRENT_MODIFICATION');
    expect(e.message).toMatch(/expected revision 1, found 2/);
  });

  it('last-write-wins: B overwrites the field both changed, logged', async () => {
    const { config, base } = await race();
    const r = await config.updatePersonality('calm', writerB, {
      expectedRevision: 1,
      strategy: 'last-write-wins',
      base,
    });
    expect(r.personality.bigFive).toMatchObject({ openness: 40, extraversion: 50, agreeableness: 90 });
    expect(r.conflicts).toEqual([
      { path: 'bigFive.openness', base: 60, theirs: 80, mine: 40, resolved: 40, rule: 'last-write-wins' },
    ]);
  });

  it('first-write-wins: A keeps the field both changed; B’s other fields apply', async () => {
    const { config, base } = await race();
    const r = await config.updatePersonality('calm', writerB, {
      expectedRevision: 1,
      strategy: 'first-write-wins',
      base,
    });
    expect(r.personality.bigFive).toMatchObject({ openness: 80, extraversion: 50, agreeableness: 90 });
    expect(r.conflicts.map((c) => c.resolved)).toEqual([80]);
  });

  it.each([
    ['max', 80],
    ['average', 60],
    ['first-non-null', 80],
    ['last', 40],
  ] as const)('field-merge with %s', async (rule, expected) => {
    const { config, base } = await race();
    const r = await config.updatePersonality('calm', writerB, {
      expectedRevision: 1,
      strategy: 'field-merge',
      rules: { 'bigFive.openness': rule },
      base,
    });
    expect(r.personality.bigFive.openness).toBe(expected);
    expect(r.conflicts).toEqual([
      { path: 'bigFive.openness', base: 60, theirs: 80, mine: 40, resolved: expected, rule },
    ]);
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('a write that loses the race at commit time is re-run on fresh state and succeeds', async () => {
    const { store, config } = await seeded();
    let raced = false;
    const commit = store.commit.bind(store);
    store.commit = async (ops) => {
      if (!raced && ops.some((o) => o.kind === 'personalities')) {
        raced = true;
        await commit([
          {
            op: 'put',
            kind: 'personalities',
            doc: { ...(await store.get('personalities', 'calm'))!, description: 'by B' },
          },
        ]);
      }
      return commit(ops);
    };
    const r = await config.updatePersonality('calm', { name: 'Calmer' });
    expect(r.personality).toMatchObject({ name: 'Calmer', description: 'by B', revision: 3 });
    const run = await config.showRun(r.runId);
    // Planned again inside the one step: the lost commit wrote nothing, the second plan won.
    expect(run!.steps.find((st) => st.stepId === 'update')!.output).toMatchObject({ replans: 1 });
  });
});

describe('memory store sanity', () => {
  it('the memory store is the default for a bare service', () => {
    expect(new ConfigurationService(new MemoryStore()).runner).toBeDefined();
  });
});
