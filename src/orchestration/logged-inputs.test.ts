import { describe, expect, it } from 'vitest';
import { workflow } from './builder.js';
import { MemoryRunLog } from './run-log.js';
import { WorkflowRunner } from './runner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A plain 32-hex id (a UUID without dashes, an MD5, a request id): it looks like a key, and
// a compensation needs it as it is.
const ID = '3f9a1c7e5b2d4086a1e9c3b7d5f20e4c';

describe('inputs a compensation names', () => {
  it('are logged as they are, so recovery undoes with the very values the run was given', async () => {
    const released: unknown[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const services = {
      s: {
        reserve: async (i: { id: string }) => ({ ok: i.id.length }),
        release: async (input: unknown) => {
          released.push(input);
        },
        wait: async () => gate,
      },
    };
    const def = workflow('w')
      .step('reserve', 's', 'reserve', {
        input: { id: { $ref: 'input.id' } },
        compensate: {
          operation: 'release',
          input: { fromRun: { $ref: 'input.id' }, fromStep: { $ref: 'steps.reserve.input.id' } },
        },
      })
      .step('wait', 's', 'wait', { dependsOn: ['reserve'] })
      .build();
    const log = new MemoryRunLog();
    const a = new WorkflowRunner({ services, runLog: log, newRunId: () => 'r-1' });
    void a.run(def, { id: ID });
    for (let i = 0; i < 200; i++) {
      const r = await log.read('r-1');
      if (r?.steps.find((s) => s.stepId === 'wait')?.status === 'running') break;
      await sleep(10);
    }
    log.abandon('r-1'); // the process dies mid-run
    const b = new WorkflowRunner({ services, runLog: log });
    const [r] = await b.recoverInterrupted({ force: ['r-1'] });
    open();
    expect(r?.status).toBe('compensated');
    expect(released).toEqual([{ fromRun: ID, fromStep: ID }]);
  });
});
