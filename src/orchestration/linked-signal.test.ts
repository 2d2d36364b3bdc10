import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import { WorkflowRunner } from './runner.js';

describe('one signal shared by many runs', () => {
  it('gets one listener however many runs hold it, cancels every run in flight, and none once they end', async () => {
    const clock = new VirtualClock();
    const runner = new WorkflowRunner({
      services: {
        s: { wait: (_i: unknown, ctx: { signal: AbortSignal }) => clock.sleep(1_000, ctx.signal) },
      },
      clock,
    });
    const def = workflow('w')
      .step('a', 's', 'wait', { policy: { timeoutMs: 60_000 } })
      .build();
    const shutdown = new AbortController();
    const runs = Array.from({ length: 20 }, () => runner.run(def, {}, { signal: shutdown.signal }));
    await clock.advance(0);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort(new Error('shutting down'));
    const results = await clock.drive(Promise.all(runs));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('compensated'));
    expect(results[0]?.error?.code).toBe('CANCELLED');
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
    // Runs that end on their own give the listener back.
    const calm = new AbortController();
    await clock.drive(
      Promise.all([
        runner.run(def, {}, { signal: calm.signal }),
        runner.run(def, {}, { signal: calm.signal }),
      ]),
    );
    expect(getEventListeners(calm.signal, 'abort')).toHaveLength(0);
  });
});
