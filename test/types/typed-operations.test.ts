import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineOperations,
  MemoryRunLog,
  operation,
  stepOutput,
  WorkflowRunner,
  workflow,
} from '../../src/index.js';

/**
 * Operations declared once with their schemas type the builder and the run's outputs. Each
 * `@ts-expect-error` is a mistake that must not compile (`npm test` type-checks this file; a
 * directive with nothing wrong under it fails the check).
 */
const sent: string[] = [];
const ops = defineOperations({
  mail: {
    send: operation({
      input: z.object({ to: z.string(), subject: z.string().max(40) }),
      output: z.object({ id: z.string() }),
      handler: async ({ to, subject }) => {
        sent.push(`${to}: ${subject}`);
        return { id: `m${sent.length}` };
      },
    }),
    unsend: operation({
      input: z.object({ output: z.object({ id: z.string() }) }),
      handler: async ({ output }) => {
        sent.push(`unsent ${output.id}`);
        return { removed: output.id };
      },
    }),
  },
  audit: {
    note: operation({
      input: z.object({ messageId: z.string(), fail: z.boolean().optional() }),
      handler: async ({ messageId, fail }) => {
        if (fail) throw new Error('audit store down');
        return { noted: messageId, at: 1 };
      },
    }),
  },
});

describe('typed operations', () => {
  it('types each step output of a run from the operation that produced it', async () => {
    const def = workflow('notify', ops)
      .step('send', 'mail', 'send', {
        input: { to: 'ada', subject: 'hello' },
        compensate: { operation: 'unsend', needs: 'output' },
      })
      .step('note', 'audit', 'note', { dependsOn: ['send'], input: { messageId: stepOutput('send', 'id') } })
      .build();
    const runner = new WorkflowRunner({ services: ops, runLog: new MemoryRunLog() });
    const r = await runner.run(def, {});
    expect(r.status).toBe('completed');
    const id: string | undefined = r.outputs.send?.id;
    const at: number | undefined = r.outputs.note?.at;
    expect([id, at]).toEqual(['m1', 1]);
    // @ts-expect-error: the workflow has no step "sned".
    expect(r.outputs.sned).toBeUndefined();
    // @ts-expect-error: send's output has no field "text".
    expect(r.outputs.send?.text).toBeUndefined();
  });

  it('an unknown service, operation, compensation or input field fails to compile', () => {
    expect(Object.keys(ops.table)).toEqual(['mail', 'audit']);
    // @ts-expect-error: service "mial" is not declared.
    workflow('bad', ops).step('a', 'mial', 'send');
    // @ts-expect-error: mail has no operation "sendd".
    workflow('bad', ops).step('a', 'mail', 'sendd');
    // @ts-expect-error: mail has no operation "undo" to compensate with.
    workflow('bad', ops).step('a', 'mail', 'send', { compensate: { operation: 'undo' } });
    // @ts-expect-error: subject must be a string.
    workflow('bad', ops).step('a', 'mail', 'send', { input: { to: 'ada', subject: 3 } });
    // @ts-expect-error: "too" is not a field of send's input.
    workflow('bad', ops).step('a', 'mail', 'send', { input: { too: 'ada', subject: 'x' } });
  });

  it('checks literal step input before a run starts, and resolved input before the handler runs', async () => {
    const runner = new WorkflowRunner({ services: ops, runLog: new MemoryRunLog() });
    const literal = workflow('long')
      .step('send', 'mail', 'send', { input: { to: 'ada', subject: 'x'.repeat(41) } })
      .build();
    await expect(runner.run(literal, {})).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path: 'steps.0.input.subject' })],
    });
    const before = sent.length;
    const viaRef = workflow('via-ref')
      .step('send', 'mail', 'send', { input: { to: { $ref: 'input.to' }, subject: 'hi' } })
      .build();
    const r = await runner.run(viaRef, { to: 42 });
    expect([r.status, r.compensated]).toEqual(['compensated', []]);
    expect(r.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('input.to'),
    });
    expect(sent.length).toBe(before);
  });

  it('compensates a typed step from its typed output when a later step fails', async () => {
    const runner = new WorkflowRunner({ services: ops, runLog: new MemoryRunLog() });
    const def = workflow('notify-fail', ops)
      .step('send', 'mail', 'send', {
        input: { to: 'bo', subject: 'hi' },
        compensate: { operation: 'unsend', needs: 'output' },
      })
      .step('note', 'audit', 'note', {
        dependsOn: ['send'],
        input: { messageId: stepOutput('send', 'id'), fail: true },
        policy: { retry: { maxAttempts: 1, baseDelayMs: 1 } },
      })
      .build();
    const r = await runner.run(def, {});
    expect(r.status).toBe('compensated');
    expect(r.compensated).toEqual(['send']);
    expect(sent.at(-1)).toMatch(/^unsent m\d+$/);
  });
});
