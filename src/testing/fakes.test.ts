import { describe, expect, it } from 'vitest';
import { failure } from '../configuration/test-setup.test-helper.js';
import { VirtualClock } from '../orchestration/clock.js';
import { PersonalityService } from '../services/personality-service.js';
import { MemoryStore } from '../storage/memory/store.js';
import { assertStoreEquals, snapshotStore } from './assertions.js';
import { createFakeServices, FaultyStore, fakeService, unwrapFake } from './fakes.js';
import { FaultInjector } from './faults.js';
import { sampleAgent, samplePersonality, sampleRole } from './samples.js';
import { createTestConfiguration } from './test-configuration.js';

describe('fakeService', () => {
  it('faults async methods, passes sync ones through, and counts both', async () => {
    const clock = new VirtualClock();
    const faults = new FaultInjector({ clock });
    const real = new PersonalityService(new MemoryStore({ now: () => clock.now() }));
    const fake = fakeService(real, 'personalities', faults, clock);
    faults.failNext('personalities', 1, 'TRANSIENT', 'create');
    expect((await failure(fake.create(samplePersonality))).code).toBe('TRANSIENT');
    expect(await real.get('calm')).toBeUndefined();
    faults.failNext('personalities', 5);
    // parse is sync: not faulted, but logged.
    expect(fake.parse(samplePersonality).id).toBe('calm');
    faults.restore();
    const created = await fake.create(samplePersonality);
    expect(created).toMatchObject({ id: 'calm', revision: 1 });
    // create's own internal calls (this.parse, this.fromDoc) run on the real object: not counted.
    expect(faults.calls.map((c) => `${c.operation}:${c.outcome}`)).toEqual([
      'create:fault',
      'parse:ok',
      'create:ok',
    ]);
    expect(faults.callCount('personalities', 'create')).toBe(2);
    expect(fake.label).toBe('personality');
    expect(fake.create).toBe(fake.create);
    expect(unwrapFake(fake)).toBe(real);
  });

  it('logs a sync method that throws as an error with its code', () => {
    const faults = new FaultInjector();
    const fake = fakeService(new PersonalityService(new MemoryStore()), 'personalities', faults);
    expect(() => fake.parse({ name: 'x', bigFive: { openness: 170 } })).toThrow(/openness/);
    expect(faults.calls[0]).toMatchObject({
      operation: 'parse',
      outcome: 'error',
      code: 'VALIDATION_FAILED',
    });
  });
});

describe('createFakeServices', () => {
  it('builds the five services as fakes over one faulty store sharing one injector', async () => {
    const { services, store, faults, clock } = createFakeServices();
    expect(services.store).toBe(store);
    expect(store).toBeInstanceOf(FaultyStore);
    await services.personalities.create(samplePersonality);
    expect(await services.agents.usingPersonality('calm')).toEqual([]);
    expect(store.commits).toBe(1);
    faults.makeUnavailable('roles');
    expect((await failure(services.roles.list())).message).toMatch(/roles\.list: service unavailable/);
    expect(await services.models.find('gpt-4o')).toMatchObject({ provider: 'openai' });
    expect(faults.callCount('personalities')).toBe(1);
    expect(faults.callCount('agents', 'usingPersonality')).toBe(1);
    expect(faults.callCount('roles')).toBe(1);
    expect(faults.callCount('models')).toBe(1);
    expect(clock.now()).toBe(0);
  });

  it('faults the catalog read a plan starts ahead (a promise from a method not declared async), and logs it as it settles', async () => {
    const { services, faults } = createFakeServices();
    faults.failNext('models', 1, 'TRANSIENT', 'catalogAhead');
    const read = services.models.catalogAhead();
    expect((await failure(read)).code).toBe('TRANSIENT');
    expect(faults.rules('models')).toEqual([]); // used up
    expect((await services.models.catalogAhead()).length).toBeGreaterThan(0);
    expect(faults.calls.filter((c) => c.operation === 'catalogAhead').map((c) => c.outcome)).toEqual([
      'fault',
      'ok',
    ]);
  });

  it('the documented fault on an agents method fails a personality update, which changes nothing', async () => {
    const tc = createTestConfiguration();
    await tc.drive(tc.config.createPersonality(samplePersonality));
    await tc.drive(tc.config.createRole(sampleRole));
    await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') }));
    const before = await snapshotStore(tc.store);
    tc.faults.failNext('agents', 1, 'PERMANENT', 'usingPersonality');
    const e = await failure(tc.drive(tc.config.updatePersonality('calm', { name: 'Calmer' })));
    expect(e.message).toContain('agents.usingPersonality');
    await assertStoreEquals(tc.store, before);
  });

  it('applies store faults under the name "store"', async () => {
    const clock = new VirtualClock();
    const { services, store, faults } = createFakeServices({ clock });
    faults.addLatency('store', 40, 'commit');
    const done = clock.drive(services.personalities.create(samplePersonality));
    expect(await done).toMatchObject({ id: 'calm', createdAt: new Date(40).toISOString() });
    expect(clock.now()).toBe(40);
    expect(faults.callCount('store', 'commit')).toBe(1);
    expect(store.commits).toBe(1);
  });
});

describe('FaultyStore', () => {
  it('crashes the next commit without applying it: the store stays at its before-state', async () => {
    const inner = new MemoryStore({ now: () => 0 });
    const store = new FaultyStore(inner);
    await store.put('personalities', { id: 'a', name: 'A' });
    const before = await snapshotStore(inner);
    store.crashNextCommit();
    const e = await failure(
      store.commit([
        { op: 'put', kind: 'personalities', doc: { id: 'b', name: 'B' } },
        { op: 'delete', kind: 'personalities', id: 'a' },
      ]),
    );
    expect(e).toMatchObject({ code: 'PERMANENT', retryable: false, context: { crash: true } });
    await assertStoreEquals(inner, before);
    expect(store.commits).toBe(1);
    expect(store.crashedCommits).toBe(1);
    // Only the next one crashes.
    await store.delete('personalities', 'a');
    expect(await inner.list('personalities')).toEqual([]);
    expect(store.commits).toBe(2);
  });

  it('counts puts and deletes as commits, and crashes them too', async () => {
    const store = new FaultyStore(new MemoryStore());
    store.crashNextCommit(2);
    expect((await failure(store.put('roles', { id: 'r' }))).context).toMatchObject({
      crash: true,
      operation: 'put',
    });
    expect((await failure(store.delete('roles', 'r'))).context).toMatchObject({ crash: true });
    await store.put('roles', { id: 'r' });
    expect([store.commits, store.crashedCommits]).toEqual([1, 2]);
    expect(() => store.crashNextCommit(0)).toThrow(/integer ≥ 1/);
  });
});
