import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory/store.js';
import { ConfigurationService } from './configuration-service.js';
import { calm } from './test-setup.test-helper.js';

describe('two applies of the same new entities at once', () => {
  it('the one that loses the race plans again: unchanged, not ALREADY_EXISTS', async () => {
    const store = new MemoryStore();
    const config = new ConfigurationService(store);
    const bundle = { personalities: [calm] };
    // The other apply commits between this one's plan and its commit.
    const commit = store.commit.bind(store);
    let other: Promise<unknown> | undefined;
    store.commit = async (ops, opts) => {
      if (!other) {
        other = new ConfigurationService(store).applyBundle(bundle);
        await other;
      }
      return commit(ops, opts);
    };
    const late = await config.applyBundle(bundle);
    expect(((await other) as { changes: Array<{ action: string }> }).changes.map((c) => c.action)).toEqual([
      'create',
    ]);
    expect(late.changes.map((c) => [c.kind, c.id, c.action])).toEqual([
      ['personalities', 'calm', 'unchanged'],
    ]);
    expect(await store.get('personalities', 'calm')).toMatchObject({ revision: 1 });
  });
});
