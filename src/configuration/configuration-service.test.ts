import { describe, expect, it } from 'vitest';
import { configurationHash } from '../domain/resolved.js';
import { fromOutside } from './inputs.js';
import { agentInput, calm, failure, reviewer, seeded, setup } from './test-setup.test-helper.js';

describe('ConfigurationService', () => {
  it('creates an agent composed against its personality and role, with its resolved file', async () => {
    const { config, store } = await seeded();
    const a = await config.services.agents.require('a1');
    expect(a).toMatchObject({ personalityVersion: 1, roleVersion: 1, syncStatus: 'synchronized' });
    const resolved = await store.get('resolved', 'a1');
    expect(resolved!.checksum).toBe(a.configurationHash);
    expect(configurationHash(resolved!.configuration as never)).toBe(a.configurationHash);
    expect((resolved!.configuration as { systemPrompt: string }).systemPrompt).toContain(
      'You review code carefully.',
    );
  });

  it('creates agent, new personality and new role in one commit, or nothing', async () => {
    const { config, store } = setup();
    const bad = await failure(
      config.createAgent({
        agent: agentInput('x', { model: { provider: 'openai', modelId: 'gpt-40' } }),
        personality: calm,
        role: reviewer,
      }),
    );
    expect(bad.message).toMatch(/did you mean "gpt-4o"/);
    expect(await store.list('personalities')).toEqual([]);
    expect(await store.list('roles')).toEqual([]);
    const ok = await config.createAgent({ agent: agentInput('x'), personality: calm, role: reviewer });
    expect(ok.created).toEqual(['personalities/calm', 'roles/reviewer', 'agents/x', 'resolved/x']);
  });

  it.each([
    ['the agent', { agent: agentInput('a1') }],
    ['its new personality', { agent: agentInput('n1'), personality: { ...calm, name: 'Other' } }],
    ['its new role', { agent: agentInput('n2'), role: { ...reviewer, name: 'Other' } }],
  ])(
    'refuses a create of %s where it exists at once, in its plan: no commit is tried, nothing recorded to undo',
    async (_, req) => {
      const { config, store } = await seeded();
      const before = await store.list('personalities');
      const e = await failure(config.createAgent(req));
      expect(e.code).toBe('ALREADY_EXISTS');
      expect(e.message).toMatch(/already exists \(revision 1\)/);
      const [run] = (await config.runLog.list()).filter((r) => r.state !== 'completed');
      const events = (await config.runLog.read(run!.runId))!.events;
      // Refused by the compose step: the persist step (and its intent, its undo) never ran.
      expect(events.filter((x) => x.type === 'step' && x.stepId === 'persist')).toEqual([]);
      expect(await store.list('personalities')).toEqual(before);
      expect(await store.get('agents', 'n1')).toBeUndefined();
      expect(await store.get('agents', 'n2')).toBeUndefined();
    },
  );

  it('names the referring field and suggests ids for a missing personality', async () => {
    const { config } = await seeded();
    const e = await failure(config.createAgent({ agent: agentInput('b', { personalityId: 'clam' }) }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('agent "b": personalityId: personality "clam" not found; did you mean "calm"?');
  });

  it('refuses a model the role cannot run on', async () => {
    const { config } = await seeded();
    const e = await failure(
      config.createAgent({
        agent: agentInput('dev', {
          roleId: 'developer',
          model: { provider: 'ollama', modelId: 'mistral:7b' },
        }),
      }),
    );
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/role "developer" needs a model with "code"/);
  });

  it('cascades a personality update to every agent using it', async () => {
    const { config, store } = await seeded();
    const before = await config.services.agents.require('a1');
    const r = await config.updatePersonality('calm', { bigFive: { openness: 90 } });
    expect(r.synced).toEqual(['a1', 'a2']);
    expect(r.personality.bigFive.openness).toBe(90);
    expect(r.personality.bigFive.neuroticism).toBe(10);
    for (const id of ['a1', 'a2']) {
      const a = await config.services.agents.require(id);
      expect(a.personalityVersion).toBe(2);
      expect(a.configurationHash).not.toBe(before.configurationHash);
      expect((await store.get('resolved', id))!.checksum).toBe(a.configurationHash);
    }
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('update with a stale expected revision changes nothing', async () => {
    const { config } = await seeded();
    const e = await failure(config.updatePersonality('calm', { name: 'X' }, { expectedRevision: 7 }));
    expect(e.code).toBe('CONCURRENT_MODIFICATION');
    expect(e.message).toMatch(/expected revision 7, found 1/);
    expect((await config.services.personalities.require('calm')).name).toBe('Calm');
  });

  it('refuses to delete a personality in use, listing the agents', async () => {
    const { config } = await seeded();
    const e = await failure(config.deletePersonality('calm'));
    expect(e.code).toBe('REFERENCE_IN_USE');
    expect(e.context.agents).toEqual(['a1', 'a2']);
    expect(await config.services.personalities.get('calm')).toBeDefined();
  });

  it('cascades a delete to the agents and their resolved files', async () => {
    const { config, store } = await seeded();
    const r = await config.deletePersonality('calm', { mode: 'cascade' });
    expect(r.agentsDeleted).toEqual(['a1', 'a2']);
    expect(await store.list('agents')).toEqual([]);
    expect(await store.list('resolved')).toEqual([]);
  });

  it('reassigns agents to another personality and re-composes them', async () => {
    const { config } = await seeded();
    await config.createPersonality({ ...calm, id: 'warm', name: 'Warm' });
    await config.deletePersonality('calm', { mode: 'reassign', to: 'warm' });
    const a = await config.services.agents.require('a1');
    expect(a.personalityId).toBe('warm');
    expect(await config.detectInconsistencies()).toEqual([]);
    const e = await failure(config.deletePersonality('warm', { mode: 'reassign', to: 'nope' }));
    expect(e.code).toBe('NOT_FOUND');
    expect((await config.services.agents.require('a1')).personalityId).toBe('warm');
  });

  it('predefined roles cannot be updated or deleted; a custom role can start from one', async () => {
    const { config } = setup();
    expect((await failure(config.updateRole('analyst', { name: 'x' }))).code).toBe('IMMUTABLE_ROLE');
    expect((await failure(config.deleteRole('analyst'))).code).toBe('IMMUTABLE_ROLE');
    const custom = await config.createRole({ id: 'my-analyst' }, { template: 'analyst' });
    const lib = await config.services.roles.require('analyst');
    expect(custom.systemPrompt).toBe(lib.systemPrompt);
    expect(custom.predefined).toBe(false);
  });

  it('applies a bundle all-or-nothing and reports the diff', async () => {
    const { config, store } = await seeded();
    const bundle = {
      personalities: [{ ...calm, bigFive: { ...calm.bigFive, openness: 10 } }],
      roles: [reviewer],
      agents: [agentInput('a3')],
    };
    const dry = await config.applyBundle(bundle, { dryRun: true });
    expect(dry.changes.map((c) => `${c.action}:${c.kind}/${c.id}`)).toEqual([
      'update:personalities/calm',
      'unchanged:roles/reviewer',
      'create:agents/a3',
      'sync:agents/a1',
      'sync:agents/a2',
    ]);
    expect(dry.changes[0]!.changes).toEqual([{ path: 'bigFive.openness', from: 60, to: 10 }]);
    expect((await store.list('agents')).length).toBe(2);
    await config.applyBundle(bundle);
    expect((await store.list('agents')).length).toBe(3);
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('a bundle with problems lists them all by path and applies nothing', async () => {
    const { config, store } = setup();
    const e = await failure(
      config.applyBundle({
        personalities: [calm, { ...calm, id: 'b', bigFive: { ...calm.bigFive, openness: 170 } }],
        roles: [reviewer],
        agents: [agentInput('a1'), agentInput('a2', { roleId: 'missing' })],
      }),
    );
    expect(e.issues.map((i) => i.path)).toEqual(['personalities[1].bigFive.openness', 'agents[1].roleId']);
    expect(await store.list('personalities')).toEqual([]);
  });

  it('a revision carried in a bundle entry is a whole number of at least 0, or the bundle is refused', async () => {
    const { config, store } = await seeded();
    for (const revision of [1.5, -1, '1', null]) {
      const e = await failure(
        config.applyBundle(fromOutside({ personalities: [{ ...calm, name: 'Other', revision }] })),
      );
      expect(e.code, String(revision)).toBe('VALIDATION_FAILED');
      expect(e.issues.map((i) => i.path)).toEqual(['personalities[0].revision']);
      expect(e.issues[0]?.message).toContain(`got ${JSON.stringify(revision)} (personality "calm")`);
    }
    expect(await store.get('personalities', 'calm')).toMatchObject({ name: 'Calm', revision: 1 });
    await config.applyBundle(fromOutside({ personalities: [{ ...calm, name: 'Other', revision: 1 }] }));
    expect(await store.get('personalities', 'calm')).toMatchObject({ name: 'Other', revision: 2 });
  });

  it('detects and reconciles stale agents and edited resolved files', async () => {
    const { config, store } = await seeded();
    await config.services.personalities.update('calm', { name: 'Calmer' }); // bypasses the cascade
    const resolved = (await store.get('resolved', 'a2'))!;
    await store.put('resolved', {
      ...resolved,
      configuration: { ...(resolved.configuration as object), systemPrompt: 'hacked' },
    });
    await store.put('resolved', {
      id: 'ghost',
      checksum: '0'.repeat(64),
      configuration: resolved.configuration,
    });
    const found = await config.detectInconsistencies();
    expect(found.map((f) => `${f.kind}:${f.entity}`).sort()).toEqual([
      'resolved-edited:a2',
      'resolved-orphaned:ghost',
      'stale-agent:a1',
      'stale-agent:a2',
    ]);
    const r = await config.reconcile();
    expect(r.remaining).toEqual([]);
    expect(await config.detectInconsistencies()).toEqual([]);
  });

  it('reports dangling references it cannot fix', async () => {
    const { config, store } = await seeded();
    await store.delete('personalities', 'calm');
    const r = await config.reconcile();
    expect(r.remaining.map((f) => f.kind)).toEqual(['dangling-reference', 'dangling-reference']);
  });

  it('exports a bundle that imports back unchanged', async () => {
    const { config } = await seeded();
    const bundle = await config.exportBundle();
    const plan = await config.planBundle(bundle);
    expect(plan.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(plan.ops).toEqual([]);
  });

  it('prunes what a bundle leaves out, but never a personality still in use', async () => {
    const { config, store } = await seeded();
    await config.createPersonality({ ...calm, id: 'unused', name: 'Unused' });
    const bundle = { personalities: [calm], roles: [reviewer], agents: [agentInput('a1')] };
    const plan = await config.planBundle(bundle, { prune: true });
    expect(plan.changes.filter((c) => c.action === 'delete').map((c) => `${c.kind}/${c.id}`)).toEqual([
      'agents/a2',
      'personalities/unused',
    ]);
    const e = await failure(config.applyBundle({ ...bundle, personalities: [] }, { prune: true }));
    expect(e.message).toMatch(/cannot prune personality "calm": used by a1/);
    await config.applyBundle(bundle, { prune: true });
    expect((await store.list('agents')).map((a) => a.id)).toEqual(['a1']);
  });

  it("never prunes what an agent of the bundle itself uses, though no stored agent does: refused at the plan, naming the agent's field", async () => {
    const { config, store } = await seeded();
    await config.createPersonality({ ...calm, id: 'unused', name: 'Unused' });
    const before = await store.list('personalities');
    const bundle = {
      personalities: [calm],
      roles: [reviewer],
      agents: [agentInput('a1'), agentInput('a9', { personalityId: 'unused' })],
    };
    for (const dryRun of [true, false]) {
      const e = await failure(config.applyBundle(bundle, { prune: true, dryRun, file: 'b.json' }));
      expect(e.issues).toEqual([
        expect.objectContaining({
          file: 'b.json',
          path: 'agents[1].personalityId',
          message:
            'cannot prune personality "unused": used by a9 (add it to the bundle, or leave out --prune)',
        }),
      ]);
    }
    expect(await store.list('personalities')).toEqual(before);
    expect((await store.list('agents')).map((a) => a.id)).not.toContain('a9');
  });
});

describe('bundle problem paths', () => {
  it('name the agent by its index in the bundle even when an earlier agent failed to parse', async () => {
    const { config } = setup();
    const e = await failure(
      config.applyBundle({
        personalities: [calm],
        roles: [reviewer],
        // Deliberately wrong, as a bundle read from a file may be: checked at run time.
        agents: fromOutside([{ name: 'bad', colour: 'red' }, agentInput('ok', { roleId: 'missing' })]),
      }),
    );
    const missing = e.issues.filter((i) => /neither in the bundle nor stored/.test(i.message));
    expect(missing.map((i) => i.path)).toEqual(['agents[1].roleId']);
  });
});

describe('missing references', () => {
  it('are named as required fields, not looked up as "null"', async () => {
    const { config } = await seeded();
    const e = await failure(
      config.createAgent({ agent: { name: 'Nobody', model: { provider: 'openai', modelId: 'gpt-4o' } } }),
    );
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/^agent "nobody": (personalityId|roleId) is required$/);
  });
});

describe('model compatibility beyond create', () => {
  const onSmallModel = (id: string) =>
    agentInput(id, { model: { provider: 'ollama', modelId: 'mistral:7b' } });

  it('a role update that its agents’ models cannot serve is refused, naming them', async () => {
    const { config } = await seeded();
    await config.createAgent({ agent: onSmallModel('small') });
    const e = await failure(
      config.updateRole('reviewer', { constraints: { requiredModelCapabilities: ['vision'] } }),
    );
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toMatch(/agent "small": model\.modelId: role "reviewer" needs a model with "vision"/);
    expect((await config.services.roles.require('reviewer')).constraints).toEqual({});
  });

  it('reassigning agents to a role their model cannot serve is refused', async () => {
    const { config } = await seeded();
    await config.createRole({ ...reviewer, id: 'other', name: 'Other' });
    await config.createAgent({ agent: { ...onSmallModel('small'), roleId: 'other' } });
    const e = await failure(config.deleteRole('other', { mode: 'reassign', to: 'developer' }));
    expect(e.message).toMatch(
      /cannot reassign agent "small" to role "developer": .*needs a model with "code"/,
    );
  });

  it('detectInconsistencies reports an agent whose model no longer suits its role', async () => {
    const { config, store } = await seeded();
    await config.createAgent({ agent: onSmallModel('small') });
    const role = (await store.get('roles', 'reviewer'))!;
    await store.put('roles', { ...role, constraints: { requiredModelCapabilities: ['vision'] } }); // by hand
    const found = (await config.detectInconsistencies()).filter((f) => f.kind === 'model-incompatible');
    // a1 and a2 run on claude-sonnet-4, which has vision; only the small local model falls short.
    expect(found.map((f) => f.entity)).toEqual(['small']);
  });
});

describe('calls from plain JavaScript that leave out what the types require', () => {
  it('are refused naming what is missing, and change nothing', async () => {
    const { config, store } = await seeded();
    await config.createAgent({ agent: agentInput('solo') });
    const before = await store.list('agents');
    const reassign = await failure(config.deletePersonality('calm', { mode: 'reassign' } as never));
    expect(reassign.message).toBe('personality "calm": reassign: names no personality to move its agents to');
    expect(reassign.issues[0]).toMatchObject({ path: 'reassign' });
    for (const req of [undefined, null, [], 'ada'])
      expect((await failure(config.createAgent(req as never))).code).toBe('VALIDATION_FAILED');
    expect((await failure(config.createAgent({} as never))).issues[0]).toMatchObject({ path: 'agent' });
    expect(await store.get('personalities', 'calm')).toBeDefined();
    expect(await store.list('agents')).toEqual(before);
  });
});

describe('text that is not valid Unicode', () => {
  it('a lone surrogate is refused, naming the field; a whole pair (an emoji) is text like any other', async () => {
    const { config } = setup();
    await expect(config.createPersonality({ ...calm, id: 'half', name: 'a\ud800b' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [
        expect.objectContaining({
          path: 'name',
          message: expect.stringContaining('a lone surrogate U+D800'),
        }),
      ],
    });
    expect((await config.createPersonality({ ...calm, id: 'whole', name: 'Calm \u{1F600}' })).name).toBe(
      'Calm 😀',
    );
  });
});
