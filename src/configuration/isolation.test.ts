import { describe, expect, it } from 'vitest';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, failure, reviewer, seeded, setup } from './test-setup.test-helper.js';

const snapshot = async (config: ConfigurationService) => {
  const s = config.services.store;
  const out: Record<string, unknown> = {};
  for (const k of ['personalities', 'roles', 'agents', 'models', 'resolved'] as const)
    out[k] = await s.list(k);
  return out;
};

describe('a delete refused while agents use the entity', () => {
  it('is refused when exactly one agent uses it, naming that agent', async () => {
    const { config } = setup();
    await config.createPersonality(calm);
    await config.createRole(reviewer);
    await config.createAgent({ agent: agentInput('solo') });
    const before = await snapshot(config);
    const e = await failure(config.deletePersonality('calm'));
    expect(e.code).toBe('REFERENCE_IN_USE');
    expect(e.message).toMatch(/^personality "calm" is used by 1 agent: solo;/);
    const r = await failure(config.deleteRole('reviewer'));
    expect(r.message).toMatch(/^role "reviewer" is used by 1 agent: solo;/);
    expect(await snapshot(config)).toEqual(before);
  });
});

describe('a bundle naming one id twice', () => {
  it('is refused on a dry run as on an apply, and writes nothing', async () => {
    const { config } = await seeded();
    const before = await snapshot(config);
    const bundle = {
      personalities: [
        { ...calm, id: 'twin' },
        { ...calm, id: 'twin', name: 'Twin' },
      ],
    };
    for (const dryRun of [true, false]) {
      const e = await failure(config.applyBundle(bundle, { dryRun }));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.issues.map((i) => i.path)).toContain('personalities[1].id');
    }
    expect(await snapshot(config)).toEqual(before);
  });
});

describe('a failed change changes nothing', () => {
  it('a role update that would leave an agent on an unsuitable model is refused whole', async () => {
    const { config } = await seeded();
    const before = await snapshot(config);
    const e = await failure(
      config.updateRole('reviewer', { constraints: { requiredModelCapabilities: ['no-such-capability'] } }),
    );
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(await snapshot(config)).toEqual(before);
  });
});

/** A user-defined workflow that commits twice: its second step (a role create) fails. */
const twoWrites = {
  id: 'two-writes',
  steps: [
    {
      id: 'mine',
      service: 'personality',
      operation: 'update',
      input: { id: 'calm', patch: { description: 'mine' } },
      compensate: { operation: 'restore' },
    },
    { id: 'boom', service: 'role', operation: 'create', input: { role: reviewer }, dependsOn: ['mine'] },
  ],
};

describe('compensating a user-defined workflow after someone else wrote', () => {
  it('skips the undo of their document, says so, and keeps their version', async () => {
    const { store, config: plain } = await seeded();
    let interloper: Promise<unknown> | undefined;
    // Between the workflow's first step and its failing second step, another writer updates calm.
    const wrap = (h: ServiceHandlers): ServiceHandlers => ({
      ...h,
      role: {
        ...h.role,
        create: async () => {
          interloper = plain.updatePersonality('calm', { description: 'theirs' });
          await interloper;
          throw new Error('role service down');
        },
      },
    });
    const config = new ConfigurationService(store, { wrapHandlers: wrap });
    const result = await config.runWorkflow(twoWrites);
    expect(result.status).toBe('failed');
    const message = config.errorOf(result).message;
    expect(message).toMatch(
      /skipped undo of personalities\/calm \(this run wrote revision 2; now revision 3 by another writer\)/,
    );
    expect(message).toMatch(/their version is kept/);
    const calmNow = await config.services.personalities.require('calm');
    expect(calmNow).toMatchObject({ description: 'theirs', revision: 3 });
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('undoes its own write when nobody wrote since', async () => {
    const { store } = await seeded();
    const wrap = (h: ServiceHandlers): ServiceHandlers => ({
      ...h,
      role: { ...h.role, create: async () => Promise.reject(new Error('role service down')) },
    });
    const config = new ConfigurationService(store, { wrapHandlers: wrap });
    const result = await config.runWorkflow(twoWrites);
    expect(result.status).toBe('compensated');
    expect((await config.services.personalities.require('calm')).description).toBeUndefined();
    expect(await config.detectInconsistencies()).toEqual([]);
  });
});

describe('an update racing an agent created on what it changes', () => {
  it.each([
    ['personality', 'personalities', 'calm'],
    ['role', 'roles', 'reviewer'],
  ] as const)(
    'a %s update planned before the new agent landed is planned again with it, and leaves it in sync',
    async (_label, kind, id) => {
      const { store, config } = setup();
      await config.createPersonality(calm);
      await config.createRole(reviewer);
      await config.createAgent({ agent: agentInput('first') });
      // Another writer creates an agent on it just before the update's first commit.
      const other = new ConfigurationService(store);
      const commit = store.commit.bind(store);
      let raced = false;
      store.commit = async (ops, opts) => {
        if (!raced && ops.some((o) => o.op === 'put' && o.kind === kind && o.doc.id === id)) {
          raced = true;
          await other.createAgent({ agent: agentInput('late') });
        }
        return commit(ops, opts);
      };
      const patch =
        kind === 'personalities' ? { behaviors: { humor: 90 } } : { description: 'Reviews all code' };
      const r =
        kind === 'personalities'
          ? await config.updatePersonality(id, patch)
          : await config.updateRole(id, patch);
      expect(raced).toBe(true);
      expect([...r.synced].sort()).toEqual(['first', 'late']);
      const entity = await store.get(kind, id);
      const late = await store.get('agents', 'late');
      expect(late?.[kind === 'personalities' ? 'personalityVersion' : 'roleVersion']).toBe(entity?.revision);
      expect(await config.detectInconsistencies()).toEqual([]);
    },
  );
});
