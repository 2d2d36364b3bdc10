import { describe, expect, it } from 'vitest';
import { createTestConfiguration } from '../testing/test-configuration.js';

// A run whose undo failed on a full disk is left compensating (`undoPending`) for recovery.
// The same service finishes that undo before it starts its next run, as every CLI command
// does: a stale intent must never be left to meet a newer write.
describe('a run left to recovery', () => {
  it('is undone before the next run of the same service starts', async () => {
    const t = createTestConfiguration();
    const { config, faults } = t;
    await t.drive(
      config.createPersonality({
        id: 'calm',
        name: 'Calm',
        bigFive: {
          openness: 50,
          conscientiousness: 50,
          extraversion: 50,
          agreeableness: 50,
          neuroticism: 50,
        },
        behaviors: { humor: 10 },
      }),
    );
    // The update commits, its check fails, and its undo cannot write (the disk is full).
    faults.inject('configuration', 'verify', { kind: 'error', code: 'PERMANENT', times: 1 });
    faults.inject('personality', 'restore', { kind: 'error', code: 'IO_ERROR', times: 20 });
    const failed = await t
      .drive(config.updatePersonality('calm', { behaviors: { humor: 90 } }))
      .catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    const left = (await t.runLog.list()).find((r) => r.workflowId === 'update-personality');
    expect(left?.state).toBe('compensating');
    expect((await config.services.personalities.require('calm')).behaviors.humor).toBe(90);
    // Space again: the next run first finishes that undo.
    faults.reset();
    await t.drive(config.createRole({ id: 'scribe', name: 'Scribe', systemPrompt: 'You write.' }));
    expect((await config.services.personalities.require('calm')).behaviors.humor).toBe(10);
    expect((await t.runLog.read(left!.runId))?.state).toBe('compensated');
    await t.cleanup();
  });
});
