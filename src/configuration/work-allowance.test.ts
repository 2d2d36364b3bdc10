import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../orchestration/clock.js';
import { MemoryStore } from '../storage/memory/store.js';
import type { BatchOp, CommitResult } from '../storage/store.js';
import { ConfigurationService } from './configuration-service.js';
import { agentInput, calm, reviewer } from './test-setup.test-helper.js';
import { MS_PER_DOCUMENT } from './work-allowance.js';

/** A store whose commits take 1 ms of the virtual clock per op, like a disk would. */
class SlowStore extends MemoryStore {
  constructor(readonly clock: VirtualClock) {
    super();
  }
  override async commit(ops: BatchOp[]): Promise<CommitResult> {
    await this.clock.sleep(ops.length);
    return super.commit(ops);
  }
}

describe('a step with a lot of work is given time for it', () => {
  it('a bundle whose commit outlasts the step timeout still applies: the deadline grows with the documents', async () => {
    const clock = new VirtualClock();
    const store = new SlowStore(clock);
    const config = new ConfigurationService(store, {
      clock,
      // One attempt of 50 ms: far less than committing 100 agents, their files, personality and role.
      servicePolicies: { file: { timeoutMs: 50 }, configuration: { timeoutMs: 50 } },
    });
    const bundle = {
      personalities: [calm],
      roles: [reviewer],
      agents: [...Array(100).keys()].map((i) => agentInput(`a${i}`)),
    };
    const applied = await clock.drive(config.applyBundle(bundle));
    expect(applied.applied).toBe(true);
    expect(await config.services.agents.list()).toHaveLength(100);
    // The commit really took longer than the step's own timeout...
    expect(clock.now()).toBeGreaterThan(50);
    // ...and no longer than the allowance.
    expect(clock.now()).toBeLessThan(50 + 202 * MS_PER_DOCUMENT * 3);
  });
});
