import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentOwner, ownerMayBeAlive } from './owner.js';

describe('run owners', () => {
  it('a live process on this host may own a run; once it exits, it does not', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    const owner = { pid: child.pid!, host: hostname() };
    expect(ownerMayBeAlive(owner)).toBe(true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(ownerMayBeAlive(owner)).toBe(false);
  });

  it('this process (a runner that is not running it) and a missing owner never block recovery', () => {
    expect(ownerMayBeAlive(currentOwner())).toBe(false);
    expect(ownerMayBeAlive(undefined)).toBe(false);
  });

  it('a process on another host is assumed alive', () => {
    expect(ownerMayBeAlive({ pid: 1, host: `${hostname()}-elsewhere` })).toBe(true);
  });
});

describe('two runners in one process', () => {
  it("one runner's recovery leaves another runner's live run alone", async () => {
    const { WorkflowRunner } = await import('./runner.js');
    const { MemoryRunLog } = await import('./run-log.js');
    const { workflow } = await import('./builder.js');
    const log = new MemoryRunLog();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const undone: string[] = [];
    const services = {
      s: {
        write: async () => 'written',
        wait: async () => gate,
        undo: async () => {
          undone.push('write');
        },
      },
    };
    const a = new WorkflowRunner({ services, runLog: log });
    const b = new WorkflowRunner({ services, runLog: log });
    const def = workflow('w')
      .step('write', 's', 'write', { compensate: { operation: 'undo' } })
      .step('wait', 's', 'wait', { dependsOn: ['write'] })
      .build();
    const running = a.run(def);
    await new Promise((r) => setTimeout(r, 10));
    expect(await b.recoverInterrupted()).toEqual([]);
    release();
    expect((await running).status).toBe('completed');
    expect(undone).toEqual([]);
  });
});

describe('a reused pid', () => {
  it('is not the owner: a live process that started at another time does not block recovery', () => {
    const me = currentOwner();
    expect(me.started).toMatch(/^\d+$/); // Linux: read from /proc
    expect(ownerMayBeAlive({ pid: process.ppid, host: hostname(), started: '1' })).toBe(false);
    expect(ownerMayBeAlive({ pid: process.ppid, host: hostname() })).toBe(true);
  });
});
