import { describe, expect, it } from 'vitest';
import { run, seeded, write } from './helpers.js';
import { deferredRun, failedRun, runFiles, writeRun } from './run-logs.js';
import { bold, createThenFail, entities, type RunResultJson, runCheckThenVerify, UUID } from './workflows.js';

describe('troupe workflow run', () => {
  it('runs a workflow file calling built-in operations and prints the run id', async () => {
    const { root, t } = await seeded();
    const { r, runId } = await runCheckThenVerify(root, t);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run ${runId} of workflow check-and-verify: completed`);
    expect(r.stdout).toContain('completed steps: check, verify');
    const runs = (await t('workflow', 'list', '--json')).json<Array<{ runId: string; state: string }>>();
    expect(runs).toContainEqual(expect.objectContaining({ runId, state: 'completed' }));

    const j = await t('workflow', 'run', 'flow.yaml', '--input', 'in.json', '--json');
    expect(j.code).toBe(0);
    const result = j.json<RunResultJson>();
    expect(result.status).toBe('completed');
    expect(result.outputs.check).toEqual({ id: 'calm', isNew: false });
  });

  it('fails the run (exit 1) when a step fails, e.g. checking a personality that does not exist', async () => {
    const { root, t } = await seeded();
    const { r } = await runCheckThenVerify(root, t, 'clam');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Run [0-9a-f-]{36} of workflow check-and-verify: compensated/);
    expect(r.stderr).toContain('personality "clam" not found; did you mean "calm"?');
  });

  it('--dry-run prints the plan level by level and creates no run', async () => {
    const { root, dir, t } = await seeded();
    await write(root, 'flow.json', JSON.stringify(createThenFail));
    await write(root, 'in.json', JSON.stringify({ first: bold('bold'), second: bold('brave') }));
    const before = await runFiles(dir);
    const r = await t('workflow', 'run', 'flow.json', '--dry-run', '--input', 'in.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Workflow create-then-fail: 3 steps in 3 levels');
    expect(r.stdout).toMatch(/Level 1:\n {2}first {2}personality\.create\n/);
    expect(r.stdout).toMatch(/Level 2:\n {2}second {2}personality\.create\n {6}after first\n/);
    expect(r.stdout).toContain('policy: timeout 30 s; retry up to 3 attempts');
    expect(r.stdout).toContain('compensate: personality.revert');
    expect(r.stdout).toContain('Dry run: the definition is valid; nothing was run');
    expect(await runFiles(dir)).toEqual(before);

    const j = await t('workflow', 'run', 'flow.json', '--dry-run', '--input', 'in.json', '--json');
    const plan = j.json<{
      valid: boolean;
      levels: Array<Array<{ id: string; compensate: string | null }>>;
    }>();
    expect(plan.valid).toBe(true);
    expect(plan.levels.map((l) => l.map((s) => s.id))).toEqual([['first'], ['second'], ['remove']]);
    expect(plan.levels[2]?.[0]?.compensate).toBeNull();
    expect(await runFiles(dir)).toEqual(before);
  });

  it('a definition with a dependency cycle is refused, naming the cycle', async () => {
    const { root, dir, t } = await seeded();
    await write(
      root,
      'loop.yaml',
      `id: loop
steps:
  - { id: a, service: personality, operation: check, dependsOn: [b] }
  - { id: b, service: personality, operation: check, dependsOn: [a] }
`,
    );
    const before = await runFiles(dir);
    const r = await t('workflow', 'run', 'loop.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('loop.yaml: invalid workflow "loop"');
    expect(r.stderr).toContain('dependency cycle a → b → a');
    const j = await t('workflow', 'run', 'loop.yaml', '--dry-run', '--json');
    expect(j.code).toBe(1);
    expect(j.error().code).toBe('VALIDATION_FAILED');
    expect(j.error().issues).toContainEqual(
      expect.objectContaining({ file: 'loop.yaml', message: 'dependency cycle a → b → a' }),
    );
    expect(await runFiles(dir)).toEqual(before);
  });

  it('a step naming an operation troupe does not have is refused, naming it', async () => {
    const { root, dir, t } = await seeded();
    await write(
      root,
      'bad.yaml',
      `id: bad
steps:
  - { id: a, service: nosuch, operation: op }
  - { id: b, service: personality, operation: chek }
`,
    );
    const before = await runFiles(dir);
    for (const args of [[], ['--dry-run']]) {
      const r = await t('workflow', 'run', 'bad.yaml', ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('steps.0.operation: no handler for "nosuch.op"');
      expect(r.stderr).toMatch(
        /steps\.1\.operation: no handler for "personality\.chek"; did you mean "personality\.check"/,
      );
    }
    expect(await runFiles(dir)).toEqual(before);
  });

  it('a step input that does not fit its operation is refused before the run, naming the field', async () => {
    const { root, dir, t } = await seeded();
    await write(
      root,
      'wrong.yaml',
      `id: wrong
steps:
  - { id: a, service: agent, operation: sync, input: { personalityId: 7 } }
  - { id: b, service: file, operation: materialize, dependsOn: [a], input: { agents: { $ref: steps.a.output.agents } } }
  - { id: c, service: file, operation: materialize, input: { agents: ada } }
`,
    );
    const before = await runFiles(dir);
    for (const args of [[], ['--dry-run']]) {
      const r = await t('workflow', 'run', 'wrong.yaml', ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/wrong\.yaml: workflow "wrong" cannot run/);
      expect(r.stderr).toMatch(/steps\.0\.input\.personalityId: must be a string, got a number/);
      expect(r.stderr).toMatch(/steps\.2\.input\.agents: must be an array, got a string/);
      expect(r.stderr).not.toContain('steps.1.input');
    }
    expect(await runFiles(dir)).toEqual(before);
  });

  it('a failing run is compensated in reverse order and `show` prints its timeline', async () => {
    const { root, dir, t } = await seeded();
    await write(root, 'flow.json', JSON.stringify(createThenFail));
    await write(root, 'in.json', JSON.stringify({ first: bold('bold'), second: bold('brave') }));
    const before = await entities(dir);
    const r = await t('workflow', 'run', 'flow.json', '--input', 'in.json');
    expect(r.code).toBe(1);
    const runId = UUID.exec(r.stdout)?.[0] as string;
    expect(r.stdout).toContain(`Run ${runId} of workflow create-then-fail: compensated`);
    expect(r.stdout).toContain('compensated (in this order): second, first');
    expect(r.stdout).toContain(`timeline: \`troupe workflow show ${runId}\``);
    expect(r.stderr).toContain('error: personality "ghost" not found');
    expect(await entities(dir)).toEqual(before);

    const show = await t('workflow', 'show', runId);
    expect(show.code).toBe(0);
    const out = show.stdout;
    expect(out).toContain(`Run ${runId}\n  workflow  create-then-fail\n  state     compensated\n`);
    expect(out).toMatch(
      /States:\n {2}\+\d+ms +pending\n {2}\+\d+ms +running\n {2}\+\d+ms +compensating\n {2}\+\d+ms +compensated\n/,
    );
    expect(out).toMatch(
      / {2}first {2}personality\.create {2}compensated\n {6}attempt 1 {2}\+\d+ms {2}\d+ ms {2}ok\n {6}compensation personality\.revert {2}\+\d+ms {2}\d+ ms {2}ok\n/,
    );
    expect(out).toMatch(
      / {2}remove {2}personality\.remove {2}failed {2}after second\n {6}attempt 1 {2}\+\d+ms {2}\d+ ms {2}NOT_FOUND: personality "ghost" not found\n/,
    );
    expect(out).toMatch(
      /Compensations \(in the order they ran\):\n {2}1\. second {2}personality\.revert {2}\+\d+ms {2}\d+ ms {2}compensated\n {2}2\. first {2}personality\.revert {2}\+\d+ms {2}\d+ ms {2}compensated\n/,
    );
    expect(out).toContain(
      'Error:\n  NOT_FOUND: personality "ghost" not found\n  at workflow create-then-fail, step remove, service personality, operation remove, attempt 1',
    );

    const j = (await t('workflow', 'show', runId, '--json')).json<{
      state: string;
      compensated: string[];
      completionOrder: string[];
    }>();
    expect(j).toMatchObject({ state: 'compensated', compensated: ['second', 'first'] });
    expect(j.completionOrder).toEqual(['first', 'second']);
    // A unique prefix is enough.
    expect((await t('workflow', 'show', runId.slice(0, 8))).stdout).toBe(out);

    const failed = await t('workflow', 'run', 'flow.json', '--input', 'in.json', '--json');
    expect(failed.code).toBe(1);
    const stdout = JSON.parse(failed.stdout) as RunResultJson;
    expect(stdout).toMatchObject({ status: 'compensated', compensated: ['second', 'first'] });
    expect(failed.error()).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('troupe workflow list / show', () => {
  it('lists runs newest first', async () => {
    const { root, dir, t } = await seeded();
    await writeRun(dir, 'old-run', deferredRun('old-run'));
    const { runId } = await runCheckThenVerify(root, t);
    const r = await t('workflow', 'list');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN +WORKFLOW +STATE +CREATED +UPDATED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${runId} +check-and-verify +completed +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`),
    );
    expect(lines.at(-1)).toMatch(
      /^old-run +nightly +partially-completed +2026-01-02 10:00:00Z +2026-01-02 10:00:00Z$/,
    );
    const j = (await t('workflow', 'list', '--json')).json<Array<{ runId: string; createdAt: string }>>();
    expect(j).toHaveLength(lines.length - 1);
    expect(j[0]?.runId).toBe(runId);
    expect(j.at(-1)?.runId).toBe('old-run');
    expect(j.map((x) => x.createdAt)).toEqual([...j.map((x) => x.createdAt)].sort().reverse()); // ISO 8601 sorts as text
  });

  it.each([
    {
      name: 'shows retries, circuit changes, deferred steps and how to resume',
      runId: 'nightly-1',
      log: deferredRun,
      parts: [
        '  state     partially-completed\n  started   2026-01-02 10:00:00Z by process',
        [
          '  verify  configuration.verify  deferred  after check',
          '      attempt 1  +14ms  10 ms  TIMEOUT: configuration.verify timed out after 10 ms',
          '      retry: attempt 2 after 100 ms',
          '      attempt 2  +124ms  10 ms  TIMEOUT: configuration.verify timed out after 10 ms',
          '      circuit open +134ms (service configuration)',
          '      deferred +134ms, retry at 2026-01-02 10:00:30Z (+30.1s)',
        ].join('\n'),
        'Deferred:\n  verify  retry at 2026-01-02 10:00:30Z (+30.1s)  TIMEOUT: configuration.verify timed out after 10 ms\n  finish with `troupe workflow resume nightly-1`',
      ],
    },
    {
      name: 'shows a failed compensation and the error with its context and cause chain',
      runId: 'broken-1',
      log: failedRun,
      parts: [
        '      compensation personality.revert  +22ms  8 ms  CONCURRENT_MODIFICATION: cannot undo personalities/bold',
        'Compensations (in the order they ran):\n  1. create  personality.revert  +22ms  8 ms  failed: CONCURRENT_MODIFICATION',
        [
          'Error:',
          '  VALIDATION_FAILED: consistency check failed',
          '  at workflow broken, step verify, service configuration, operation verify, attempt 1',
          '  caused by IO_ERROR: cannot read personalities/bold.json',
          '  caused by PERMANENT: EIO: i/o error, read',
        ].join('\n'),
      ],
    },
  ])('$name', async ({ runId, log, parts }) => {
    const { dir, t } = await seeded();
    await writeRun(dir, runId, log(runId));
    const r = await t('workflow', 'show', runId);
    expect(r.code).toBe(0);
    for (const part of parts) expect(r.stdout).toContain(part);
  });

  it('an unknown run id is exit 1 with a suggestion among run id prefixes', async () => {
    const { root, t } = await seeded();
    const { runId } = await runCheckThenVerify(root, t);
    const typo = `${runId.slice(0, 7)}${runId[7] === '0' ? '1' : '0'}`;
    const r = await t('workflow', 'show', typo);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run "${typo}" not found; did you mean "${runId.slice(0, 8)}"?`);
    const j = await t('workflow', 'show', 'nope', '--json');
    expect(j.code).toBe(1);
    expect(j.error()).toMatchObject({ code: 'NOT_FOUND', context: { kind: 'run', id: 'nope' } });
  });
});

describe('troupe workflow resume', () => {
  it('an unknown run id is exit 1', async () => {
    const { t } = await seeded();
    const r = await t('workflow', 'resume', 'no-such-run');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('run "no-such-run" not found');
    expect((await t('workflow', 'resume', 'no-such-run', '--json')).error().code).toBe('NOT_FOUND');
  });

  it('cancel gives up a partially-completed run: its completed steps are undone, and it exits 0', async () => {
    const { dir, t } = await seeded();
    await writeRun(dir, 'nightly-3', deferredRun('nightly-3'));
    const r = await t('workflow', 'cancel', 'nightly-3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Cancelled run nightly-3 of workflow nightly: compensated');
    expect((await t('workflow', 'show', 'nightly-3', '--json')).json()).toMatchObject({
      state: 'compensated',
    });
    const again = await t('workflow', 'cancel', 'nightly-3');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('only a partially-completed run can be cancelled');
    expect((await t('workflow', 'resume', 'nightly-3')).code).toBe(1);
  });

  it('a run that is not partially completed cannot be resumed', async () => {
    const { root, t } = await seeded();
    const { runId } = await runCheckThenVerify(root, t);
    const r = await t('workflow', 'resume', runId);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run "${runId}" is completed; only a partially-completed run can be resumed`);
  });

  it('finishes a partially-completed run: its deferred step runs and the run completes', async () => {
    const { dir, t } = await seeded();
    await writeRun(dir, 'nightly-2', deferredRun('nightly-2'));
    const r = await t('workflow', 'resume', 'nightly-2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Resumed run nightly-2 of workflow nightly: completed');
    expect(r.stdout).toContain('completed steps: check, verify');
    const show = await t('workflow', 'show', 'nightly-2', '--json');
    expect(show.json()).toMatchObject({
      state: 'completed',
      deferred: [],
      completionOrder: ['check', 'verify'],
    });
    const again = await t('workflow', 'resume', 'nightly-2', '--json');
    expect(again.code).toBe(1);
    expect(again.error().code).toBe('VALIDATION_FAILED');
  });
});

describe('troupe workflow builtins / schema', () => {
  it('lists the built-in workflows with their steps', async () => {
    const r = await run(['workflow', 'builtins']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create-agent: Create an agent with a new or existing personality and role');
    expect(r.stdout).toMatch(/ {2}persist +file\.persist +agent +file\.revert +-\n/);
    expect(r.stdout).toMatch(
      / {2}update +personality\.update +- +personality\.restore +resolve-conflict-and-retry\n/,
    );
    const j = (await run(['workflow', 'builtins', '--json'])).json<Array<{ id: string; steps: unknown[] }>>();
    expect(j.map((w) => w.id)).toEqual(
      expect.arrayContaining(['create-agent', 'update-personality', 'apply-bundle', 'reconcile']),
    );
  });

  it('prints the JSON Schema of a definition', async () => {
    for (const args of [
      ['workflow', 'schema'],
      ['workflow', 'schema', '--json'],
    ]) {
      const r = await run(args);
      expect(r.code).toBe(0);
      const schema = r.json<{ properties: Record<string, unknown>; required: string[] }>();
      expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['id', 'steps', 'maxParallel']));
      expect(schema.required).toEqual(expect.arrayContaining(['id', 'steps']));
    }
  });
});

describe('workflow runs and the directory', () => {
  it('every run is a file in .troupe/runs', async () => {
    const { root, dir, t } = await seeded();
    const before = await runFiles(dir);
    const { runId } = await runCheckThenVerify(root, t);
    // Finished, so its log is already moved aside as <runId>.done.jsonl.
    expect(await runFiles(dir)).toEqual([...before, `${runId}.done.jsonl`].sort());
  });
});
