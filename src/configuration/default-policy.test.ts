import { describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from '../orchestration/builder.js';
import { VirtualClock } from '../orchestration/clock.js';
import { WorkflowRunner } from '../orchestration/runner.js';
import { defaultPolicies } from './default-policy.js';

describe('policies given in part', () => {
  it('a retry with only maxAttempts starts at 50 ms; a runner given defaultPolicies retries as the ConfigurationService does', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const services = {
      mail: {
        send: async () => {
          if (++calls < 3) throw new TroupeError('TRANSIENT', 'busy');
          return 'sent';
        },
      },
    };
    const def = workflow('w')
      .step('send', 'mail', 'send', { policy: { retry: { maxAttempts: 5 } } })
      .build();
    expect(def.steps[0]?.policy?.retry?.baseDelayMs).toBe(50);
    const own = new WorkflowRunner({ services, clock });
    expect((await clock.drive(own.run(def, {}))).status).toBe('completed');
    expect(calls).toBe(3);
    // No policy on the step: the runner's servicePolicies, here troupe's defaults (3 attempts).
    calls = 0;
    const plain = workflow('p').step('send', 'mail', 'send').build();
    const bare = new WorkflowRunner({ services, clock });
    expect((await clock.drive(bare.run(plain, {}))).status).not.toBe('completed');
    calls = 0;
    const defaults = new WorkflowRunner({ services, clock, servicePolicies: defaultPolicies(services) });
    expect((await clock.drive(defaults.run(plain, {}))).status).toBe('completed');
    expect(calls).toBe(3);
  });
});
