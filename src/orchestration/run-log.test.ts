import { appendFile, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TroupeError } from '../domain/errors.js';
import { workflow } from './builder.js';
import { VirtualClock } from './clock.js';
import { defineWorkflow } from './definition.js';
import { compactRunLog, FileRunLog } from './file-run-log.js';
import type { ServiceHandlers } from './handlers.js';
import { MemoryRunLog, type RunEvent } from './run-log.js';
import { WorkflowRunner } from './runner.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-runs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET = 'sk-live-4f9a8b7c6d5e';
const TOKEN = 'tok-session-112233';

describe('FileRunLog', () => {
  it('writes one JSON line per event to <dir>/<runId>.jsonl, secrets redacted everywhere', async () => {
    const clock = new VirtualClock({ start: 1_700_000_000_000 });
    const runLog = new FileRunLog(dir);
    const runner = new WorkflowRunner({
      clock,
      runLog,
      newRunId: () => 'run-1',
      services: {
        agents: {
          create: async (input: { model: { apiKey: string } }) => ({
            id: 'ada',
            sessionToken: TOKEN,
            model: input.model,
          }),
        },
        files: {
          write: async (input: { key: string }) => {
            throw new TroupeError('PERMANENT', `provider rejected key ${input.key}`, {
              context: { request: { authorization: `Bearer ${TOKEN}` } },
            });
          },
        },
      },
    });
    const def = workflow('create-agent')
      .step('create', 'agents', 'create', { input: { model: { $ref: 'input.model' } } })
      .step('write', 'files', 'write', {
        dependsOn: ['create'],
        input: { key: { $ref: 'input.model.apiKey' } },
      })
      .build();
    const result = await clock.drive(
      runner.run(def, {
        model: { provider: 'openai', apiKey: SECRET, apiKeyEnv: 'OPENAI_API_KEY', maxTokens: 4096 },
      }),
    );
    expect(result.status).toBe('compensated');

    // A finished run's log is moved aside so recovery never reads it again.
    const text = await readFile(join(dir, 'run-1.done.jsonl'), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('OPENAI_API_KEY');
    expect(text).toContain('"maxTokens":4096');
    expect(text).toContain('provider rejected key [redacted]');
    const lines = text.trimEnd().split('\n');
    expect(lines.every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
    expect((JSON.parse(lines[0] as string) as RunEvent).type).toBe('created');
    // What the caller gets back is redacted too.
    expect(JSON.stringify(result.error)).not.toContain(SECRET);
    expect(JSON.stringify(result.error)).not.toContain(TOKEN);

    const record = await runLog.read('run-1');
    expect(record?.input).toEqual({
      model: { provider: 'openai', apiKey: '[redacted]', apiKeyEnv: 'OPENAI_API_KEY', maxTokens: 4096 },
    });
    expect(record?.states.map((s) => [s.state, s.at - 1_700_000_000_000])).toEqual([
      ['pending', 0],
      ['running', 0],
      ['compensating', 0],
      ['compensated', 0],
    ]);
    expect(record?.steps[1]).toMatchObject({
      stepId: 'write',
      status: 'failed',
      attempts: [{ attempt: 1, durationMs: 0, error: { code: 'PERMANENT' } }],
      error: {
        context: {
          service: 'files',
          operation: 'write',
          attempt: 1,
          request: { authorization: '[redacted]' },
        },
      },
    });
    expect(await runLog.list()).toEqual([
      {
        runId: 'run-1',
        workflowId: 'create-agent',
        state: 'compensated',
        createdAt: 1_700_000_000_000,
        updatedAt: 1_700_000_000_000,
      },
    ]);
  });

  it('ignores a torn last line, and repairs it before the next append', async () => {
    const def = defineWorkflow({ id: 'w', steps: [{ id: 'a', service: 's', operation: 'o' }] });
    const events: RunEvent[] = [
      { type: 'created', at: 1, runId: 'r', workflowId: 'w', definition: def, input: null },
      { type: 'state', at: 1, from: null, to: 'pending' },
      { type: 'state', at: 2, from: 'pending', to: 'running' },
    ];
    const file = join(dir, 'r.jsonl');
    await writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"type":"step","at":3,"stepI`);
    const log = new FileRunLog(dir);
    const record = await log.read('r');
    expect(record?.state).toBe('running');
    expect(record?.events).toHaveLength(3);

    expect((await log.listUnfinished()).map((r) => r.runId)).toEqual(['r']);
    await log.append('r', { type: 'state', at: 4, from: 'running', to: 'completed' });
    expect((await log.read('r'))?.states.map((s) => s.state)).toEqual(['pending', 'running', 'completed']);
    expect(await readFile(join(dir, 'r.done.jsonl'), 'utf8')).not.toContain('stepI');
    expect(await log.listUnfinished()).toEqual([]);
    expect((await log.list()).map((r) => r.runId)).toEqual(['r']);
  });

  it('refuses a corrupt line in the middle, naming file and line', async () => {
    await writeFile(join(dir, 'r.jsonl'), '{"type":"created"\nnot json\n{"type":"state"}\n');
    await expect(new FileRunLog(dir).read('r')).rejects.toMatchObject({
      code: 'IO_ERROR',
      context: { line: 1 },
    });
  });

  it('rejects run ids that are not safe file names', async () => {
    const log = new FileRunLog(dir);
    await expect(log.read('../etc/passwd')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await log.read('missing')).toBeUndefined();
    expect(await new FileRunLog(join(dir, 'nope')).list()).toEqual([]);
  });
});

describe('recoverInterrupted', () => {
  function services(undone: unknown[], failUndo = false): ServiceHandlers {
    return {
      personalities: {
        update: async () => ({ id: 'calm', version: 2 }),
        revert: async (input) => {
          undone.push(['personalities.revert', input]);
        },
      },
      agents: {
        sync: async () => ({ synced: ['ada'] }),
        unsync: async (input) => {
          if (failUndo) throw new TroupeError('TRANSIENT', 'agents store locked');
          undone.push(['agents.unsync', input]);
        },
      },
      files: { write: () => new Promise(() => {}) }, // the process "dies" here
    };
  }
  const def = workflow('complex-update')
    .step('personality', 'personalities', 'update', {
      input: { id: 'calm' },
      compensate: { operation: 'revert' },
    })
    .step('sync', 'agents', 'sync', { dependsOn: ['personality'], compensate: { operation: 'unsync' } })
    .step('file', 'files', 'write', { dependsOn: ['sync'] })
    .build();

  it('compensates a run a crashed process left running, from the log alone', async () => {
    const clock = new VirtualClock();
    const crashedLog = new FileRunLog(dir, { leaseMs: 20 });
    const crashed = new WorkflowRunner({
      clock,
      runLog: crashedLog,
      services: services([]),
      newRunId: () => 'r-1',
    });
    void crashed.run(def);
    await clock.runAll();
    // Wait (real time) until the log shows the last step started: that is where the process "dies".
    for (let i = 0; i < 200; i++) {
      if ((await crashedLog.read('r-1'))?.steps[2]?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await crashedLog.close(); // what the OS does when the process dies: nothing renews its lease
    await new Promise((resolve) => setTimeout(resolve, 40)); // and the lease runs out

    const undone: unknown[] = [];
    const fresh = new WorkflowRunner({ clock, runLog: new FileRunLog(dir), services: services(undone) });
    const results = await fresh.recoverInterrupted();
    expect(results).toHaveLength(1);
    const [r] = results;
    expect(r?.status).toBe('compensated');
    expect(r?.compensated).toEqual(['sync', 'personality']);
    expect(r?.error).toMatchObject({
      code: 'WORKFLOW_FAILED',
      context: { interruptedState: 'running', interruptedSteps: ['file'] },
    });
    expect(undone).toEqual([
      ['agents.unsync', { input: undefined, output: { synced: ['ada'] } }],
      ['personalities.revert', { input: { id: 'calm' }, output: { id: 'calm', version: 2 } }],
    ]);
    const record = await fresh.runLog.read('r-1');
    expect(record?.states.map((s) => s.state)).toEqual(['pending', 'running', 'compensating', 'compensated']);
    // Nothing is left to recover the second time.
    expect(await fresh.recoverInterrupted()).toEqual([]);
  });

  it('finishes a compensation that was cut off halfway, and records compensation failures', async () => {
    const events: RunEvent[] = [
      { type: 'created', at: 0, runId: 'r-2', workflowId: def.id, definition: def, input: null },
      { type: 'state', at: 0, from: null, to: 'pending' },
      { type: 'state', at: 0, from: 'pending', to: 'running' },
    ];
    const step = (stepId: string, kind: string, extra: Record<string, unknown> = {}) =>
      ({
        type: 'step',
        runId: 'r-2',
        workflowId: def.id,
        stepId,
        service: stepId === 'sync' ? 'agents' : 'personalities',
        operation: stepId === 'sync' ? 'sync' : 'update',
        kind,
        attempt: 1,
        at: 5,
        ...extra,
      }) as RunEvent;
    events.push(
      step('personality', 'start', { input: { id: 'calm' } }),
      step('personality', 'success', { output: { version: 2 } }),
      step('sync', 'start'),
      step('sync', 'success', { output: { synced: ['ada'] } }),
      { type: 'state', at: 6, from: 'running', to: 'compensating' },
      step('sync', 'compensate-start'),
      step('sync', 'compensated'),
    );
    const lines = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
    await writeFile(join(dir, 'r-2.jsonl'), lines);
    await appendFile(join(dir, 'done.jsonl'), ''); // an empty log is not a run

    const undone: unknown[] = [];
    const runner = new WorkflowRunner({
      clock: new VirtualClock(),
      runLog: new FileRunLog(dir),
      services: services(undone),
    });
    const [r] = await runner.recoverInterrupted();
    expect(r?.status).toBe('compensated');
    expect(r?.compensated).toEqual(['personality']);
    expect(undone).toEqual([['personalities.revert', { input: { id: 'calm' }, output: { version: 2 } }]]);

    // Same crash, but the remaining compensation fails: recorded, and the run ends failed.
    await writeFile(join(dir, 'r-2.jsonl'), lines.replace('"compensated"', '"compensation-failed"'));
    const failing = new WorkflowRunner({
      clock: new VirtualClock(),
      runLog: new FileRunLog(dir),
      services: services([], true),
    });
    const [f] = await failing.recoverInterrupted();
    expect(f?.status).toBe('failed');
    expect(f?.compensationFailures.map((x) => [x.stepId, x.error.code])).toEqual([['sync', 'TRANSIENT']]);
    expect(f?.compensated).toEqual(['personality']);
  });

  it('works with a memory log shared by two runners too', async () => {
    const clock = new VirtualClock();
    const runLog = new MemoryRunLog();
    void new WorkflowRunner({ clock, runLog, services: services([]), newRunId: () => 'm-1' }).run(def);
    await clock.runAll();
    runLog.abandon('m-1'); // as if its process had died
    const undone: unknown[] = [];
    const [r] = await new WorkflowRunner({ clock, runLog, services: services(undone) }).recoverInterrupted();
    expect(r?.compensated).toEqual(['sync', 'personality']);
  });
});

describe('logged definitions', () => {
  it('redact constants written into the definition, and still validate for resume', async () => {
    const runLog = new FileRunLog(dir);
    const runner = new WorkflowRunner({
      runLog,
      newRunId: () => 'd-1',
      services: { llm: { ping: async () => 'pong' } },
      sensitiveKeys: ['ssn'],
    });
    const def = workflow('w')
      .step('id', 'llm', 'ping', { input: { apiKey: SECRET, ssn: '078-05-1120', id: 'kept' } })
      .build();
    await runner.run(def);
    const text = await readFile(join(dir, 'd-1.done.jsonl'), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('078-05-1120');
    const record = await runLog.read('d-1');
    expect(record?.definition.steps[0]?.input).toEqual({
      apiKey: '[redacted]',
      ssn: '[redacted]',
      id: 'kept',
    });
    expect(defineWorkflow(record?.definition as never).steps[0]?.id).toBe('id');
  });
});

describe('a damaged log among many', () => {
  it('is set aside by list and recovery; the others are still listed and recovered', async () => {
    const def = defineWorkflow({ id: 'w', steps: [{ id: 'a', service: 's', operation: 'o' }] });
    const created = (runId: string) =>
      JSON.stringify({ type: 'created', at: 1, runId, workflowId: 'w', definition: def, input: null });
    await writeFile(
      join(dir, 'good.jsonl'),
      `${created('good')}\n${JSON.stringify({ type: 'state', at: 1, from: null, to: 'running' })}\n`,
    );
    await writeFile(
      join(dir, 'bad.jsonl'),
      `${created('bad')}\nGARBAGE\n{"type":"state","at":2,"from":null,"to":"running"}\n`,
    );
    const log = new FileRunLog(dir);
    expect((await log.list()).map((r) => r.runId)).toEqual(['good']);
    expect(log.unreadable.map((u) => u.runId)).toEqual(['bad']);
    const runner = new WorkflowRunner({ runLog: log, services: { s: { o: async () => 1 } } });
    expect((await runner.recoverInterrupted()).map((r) => r.runId)).toEqual(['good']);
  });
});

describe('compacting a finished run', () => {
  it('drops intents and large step values, keeping the timeline', () => {
    const big = { docs: 'x'.repeat(5000) };
    const lines = [
      { type: 'created', at: 1, runId: 'r', workflowId: 'w', definition: {}, input: null },
      { type: 'step', stepId: 's', kind: 'intent', attempt: 1, at: 2, output: big },
      { type: 'step', stepId: 's', kind: 'success', attempt: 1, at: 3, output: big },
      { type: 'step', stepId: 't', kind: 'success', attempt: 1, at: 4, output: { small: true } },
      { type: 'state', at: 5, from: 'running', to: 'completed' },
    ];
    const compacted = compactRunLog(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(compacted.map((e) => e.kind ?? e.type)).toEqual(['created', 'success', 'success', 'state']);
    expect(compacted[1]!.output).toEqual({
      $digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      bytes: 5011,
    });
    expect(compacted[2]!.output).toEqual({ small: true });
  });
});

describe('retention', () => {
  it('keeps at most the limit of finished logs, even when each process finishes one run, and never an unfinished one', async () => {
    await writeFile(join(dir, 'open.jsonl'), '');
    const def = defineWorkflow({ id: 'w', steps: [{ id: 'a', service: 's', operation: 'o' }] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      // A fresh log per run, as a CLI process has: the limit must hold across processes.
      const log = new FileRunLog(dir, { keep: 2 });
      const runner = new WorkflowRunner({ runLog: log, services: { s: { o: async () => 1 } } });
      ids.push((await runner.run(def)).runId);
      await new Promise((r) => setTimeout(r, 5)); // distinct mtimes
    }
    const names = await readdir(dir);
    // The newest two remain.
    expect(names.filter((n) => n.endsWith('.done.jsonl')).sort()).toEqual(
      ids
        .slice(-2)
        .map((id) => `${id}.done.jsonl`)
        .sort(),
    );
    expect(names).toContain('open.jsonl');
    expect(await new FileRunLog(dir, { keep: 2 }).prune()).toBe(0);
  });
});

describe('a run killed before its first line', () => {
  it('leaves an empty log that recovery ignores, removed once abandoned, never while fresh', async () => {
    await writeFile(join(dir, 'fresh.jsonl'), '');
    await writeFile(join(dir, 'abandoned.jsonl'), '');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'abandoned.jsonl'), hourAgo, hourAgo);
    const runLog = new FileRunLog(dir);
    expect(await runLog.listUnfinished()).toEqual([]);
    expect(runLog.unreadable).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['fresh.jsonl']);
  });

  it('a log holding only a torn first line (a power loss mid-write) is the same: removed once abandoned', async () => {
    const torn = '{"type":"created","runId":"torn","workfl';
    await writeFile(join(dir, 'torn.jsonl'), torn);
    await writeFile(join(dir, 'torn-fresh.jsonl'), torn);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'torn.jsonl'), hourAgo, hourAgo);
    const runLog = new FileRunLog(dir);
    expect(await runLog.listUnfinished()).toEqual([]);
    expect(runLog.unreadable).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['torn-fresh.jsonl']);
  });
});
