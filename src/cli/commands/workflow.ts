import type { Command } from 'commander';
import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { defaultPolicies } from '../../configuration/default-policy.js';
import { buildOperations } from '../../configuration/handlers.js';
import { assertInputGiven } from '../../configuration/input-gaps.js';
import { BUILT_IN_WORKFLOWS } from '../../configuration/workflows.js';
import { formatIssues } from '../../domain/common.js';
import { isTroupeError, notFound, TroupeError, validationError } from '../../domain/errors.js';
import { suggest } from '../../domain/suggest.js';
import {
  defineWorkflow,
  type PolicyDefinition,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
  workflowJsonSchema,
} from '../../orchestration/definition.js';
import type { RunResult } from '../../orchestration/events.js';
import { RUN_ID } from '../../orchestration/run-log.js';
import { runnableIssues } from '../../orchestration/runnable.js';
import { type CliContext, recoveredLine } from '../context.js';
import { plural, table } from '../format.js';
import { EXIT, errorJson, errorText, type Output } from '../output.js';
import { withProgress } from '../progress.js';
import {
  describePlan,
  describeRun,
  describeWorkflow,
  errorSummary,
  levelsOf,
  planStep,
  timestamp,
} from '../timeline.js';
import { isoTimes } from '../times.js';

/** A definition as read, with the policies its steps get: what the CLI's ConfigurationService runs them with. */
interface Loaded {
  def: WorkflowDefinition;
  policies: Record<string, PolicyDefinition>;
}

/** Shortest prefix shown for a run id in suggestions. */
const SHORT_ID = 8;

/**
 * Reads and validates a definition file: the schema and the graph (defineWorkflow), then
 * that every operation, compensation and fallback names an operation troupe has and that
 * no policy names a bulkhead (the CLI configures none). Errors name the file.
 */
async function loadDefinition(ctx: CliContext, file: string): Promise<Loaded> {
  const raw = await ctx.readInput(file);
  let def: WorkflowDefinition;
  try {
    def = defineWorkflow(raw as WorkflowDefinitionInput);
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    throw new TroupeError(e.code, `${file}: ${e.message}`, {
      cause: e,
      context: { ...e.context, file },
      issues: e.issues.map((i) => ({ ...i, file })),
    });
  }
  // The operations troupe has (listed without a store) and no bulkheads: the CLI configures none.
  const ops = buildOperations(await ctx.shipped(), () => new Date().toISOString());
  const policies = defaultPolicies(ops.table);
  const env = { services: ops.handlers, operations: ops.table, servicePolicies: policies, bulkheads: [] };
  const issues = runnableIssues(def, env).map((i) => ({ ...i, file }));
  if (issues.length)
    throw validationError(
      `${file}: workflow "${def.id}" cannot run:\n${formatIssues(issues, { indent: '  ', where: false })}`,
      issues,
      { workflowId: def.id, file },
    );
  return { def, policies };
}

/** A run id as given, or the one run whose id starts with it; else NOT_FOUND with did-you-mean. */
async function resolveRunId(config: ConfigurationService, given: string): Promise<string> {
  // The runs it starts (its own among them, if it is one): found by the prefix, not by listing all.
  const prefixed = (await config.runsPrefixed(given)).map((r) => r.runId);
  if (prefixed.includes(given)) return given;
  const matches = given.length >= 4 ? prefixed : [];
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1)
    throw validationError(
      `run id "${given}" is ambiguous: ${matches.join(', ')}`,
      [{ path: 'runId', message: `matches ${plural(matches.length, 'run')}` }],
      { runId: given, matches },
    );
  // Not found: what it may have meant is looked for among every run.
  const ids = (await config.listRuns()).map((r) => r.runId);
  const len = Math.max(SHORT_ID, given.length);
  const close = suggest(
    given,
    ids.map((id) => id.slice(0, len)),
  );
  const e = notFound('run', given, close);
  throw new TroupeError('NOT_FOUND', `${e.message} (see \`troupe workflow list\`)`, {
    context: e.context,
  });
}

/** The human summary of a run's result, and its error on stderr; exit 1 unless it completed. */
function reportResult(
  ctx: CliContext,
  out: Output,
  config: ConfigurationService,
  r: RunResult,
  verb: string,
): void {
  out.data(isoTimes(r));
  out.line(`${verb} ${r.runId} of workflow ${r.workflowId}: ${r.status}`);
  const done = Object.keys(r.outputs);
  if (done.length) out.line(`  completed steps: ${done.join(', ')}`);
  if (r.compensated.length) out.line(`  compensated (in this order): ${r.compensated.join(', ')}`);
  for (const f of r.compensationFailures)
    out.line(`  compensation of ${f.stepId} failed: ${errorSummary(f.error)}`);
  for (const d of r.deferred)
    out.line(`  deferred: ${d.stepId} until ${timestamp(d.retryAt)} (${errorSummary(d.error)})`);
  if (r.status === 'partially-completed') out.line(`  finish it with \`troupe workflow resume ${r.runId}\``);
  out.line(`  timeline: \`troupe workflow show ${r.runId}\``);
  if (r.logError) ctx.warn(`the run log could not be written: ${r.logError.message}`);
  if (r.status !== 'completed') {
    const e = config.errorOf(r);
    // Under --json, with the command's warnings in the same object (none printed after it).
    const warnings = ctx.warnings.splice(0);
    ctx.io.stderr(
      out.json
        ? `${JSON.stringify({ ...errorJson(e), ...(warnings.length ? { warnings } : {}) }, null, 2)}\n`
        : errorText(e),
    );
    ctx.exitCode = EXIT.failed;
  }
}

export function register(program: Command, ctx: CliContext): void {
  const noun = program
    .command('workflow')
    .description('run your own workflows, and list, inspect, resume and recover workflow runs');

  noun
    .command('run')
    .description(
      'run a workflow definition (JSON or YAML) over troupe’s services; exit 1 unless it completes',
    )
    .argument(
      '<file>',
      'workflow definition: { id, steps: [{ id, service, operation, input, dependsOn, ... }] }',
    )
    .option('--input <file>', 'the workflow input (JSON or YAML), what { "$ref": "input.<path>" } reads')
    .option('--dry-run', 'validate the definition and print the plan without running it')
    .action(async (file: string, opts: { input?: string; dryRun?: boolean }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { def, policies } = await loadDefinition(ctx, file);
      const input = opts.input === undefined ? {} : await ctx.readInput(opts.input);
      assertInputGiven(def, input);
      if (opts.dryRun) {
        out.data({
          valid: true,
          workflowId: def.id,
          maxParallel: def.maxParallel,
          levels: levelsOf(def).map((l) => l.map((s) => planStep(s, def, policies))),
        });
        out.lines(describePlan(def, policies));
        out.line('Dry run: the definition is valid; nothing was run');
        return;
      }
      await ctx.withConfig(cmd, async (config) => {
        const r = await withProgress(ctx, cmd, config, def.steps.length, () =>
          config.runWorkflow(def, input),
        );
        reportResult(ctx, out, config, r, 'Run');
      });
    });

  noun
    .command('list')
    .description('list the recorded workflow runs, newest first')
    .action(async (_opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const runs = await ctx.withConfig(cmd, (config) => config.listRuns());
      runs.sort((a, b) => b.createdAt - a.createdAt || b.updatedAt - a.updatedAt);
      out.data(isoTimes(runs));
      if (runs.length === 0) return out.line('No workflow runs yet.');
      out.lines(
        table(
          ['RUN', 'WORKFLOW', 'STATE', 'CREATED', 'UPDATED'],
          runs.map((r) => [r.runId, r.workflowId, r.state, timestamp(r.createdAt), timestamp(r.updatedAt)]),
        ),
      );
    });

  noun
    .command('show')
    .description('show the timeline of a run: states, attempts, retries, circuits, compensations, error')
    .argument('<id>', 'run id (or a unique prefix of at least 4 characters)')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const { record, held } = await ctx.withConfig(cmd, async (config) => {
        const r = await config.showRun(await resolveRunId(config, id));
        if (!r) throw notFound('run', id);
        return { record: r, held: await config.runLog.isHeld(r.runId) };
      });
      out.data(isoTimes(record));
      out.lines(describeRun(record, held));
    });

  noun
    .command('resume')
    .description('finish a partially-completed run: run its deferred steps and what depends on them')
    .argument('<id>', 'run id (or a unique prefix of at least 4 characters)')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      await ctx.withConfig(cmd, async (config) => {
        const runId = await resolveRunId(config, id);
        const record = await config.showRun(runId);
        const size = record?.definition.steps.length ?? 0;
        const r = await withProgress(ctx, cmd, config, size, () => config.resume(runId));
        reportResult(ctx, out, config, r, 'Resumed run');
      });
    });

  noun
    .command('cancel')
    .description(
      'give up a partially-completed run whose deferred steps cannot succeed: undo its completed steps',
    )
    .argument('<id>', 'run id (or a unique prefix of at least 4 characters)')
    .action(async (id: string, _opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      await ctx.withConfig(cmd, async (config) => {
        const runId = await resolveRunId(config, id);
        const r = await config.cancel(runId);
        if (r.status !== 'compensated') return reportResult(ctx, out, config, r, 'Cancelled run');
        // Cancelled as asked: every completed step undone, which is success for this command.
        out.data(isoTimes(r));
        out.line(`Cancelled run ${r.runId} of workflow ${r.workflowId}: compensated`);
        if (r.compensated.length) out.line(`  compensated (in this order): ${r.compensated.join(', ')}`);
        out.line(`  timeline: \`troupe workflow show ${r.runId}\``);
      });
    });

  noun
    .command('recover')
    .description(
      'compensate the runs a crashed troupe process left half-done (any troupe command does it too)',
    )
    .option(
      '--force <run-id...>',
      'also recover these runs although their process may be alive (a run of another host, e.g. a container that is gone)',
    )
    .action(async (opts: { force?: string[] }, cmd: Command) => {
      const out = ctx.output(cmd);
      // A run id names a file under .troupe/runs: "../x" is no run of this directory.
      const bad = (opts.force ?? []).filter((id) => !RUN_ID.test(id));
      if (bad.length)
        throw new TroupeError(
          'USAGE',
          `--force: not a run id: ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
          {
            issues: bad.map((b) => ({ path: '--force', message: `not a run id: ${JSON.stringify(b)}` })),
          },
        );
      const results = await ctx.withConfig(
        cmd,
        async (config) => {
          // Each run named must be one of this store's (a prefix names the one it starts): a
          // mistyped id is NOT_FOUND with what it may have meant, never "nothing to recover".
          const force: string[] = [];
          for (const id of opts.force ?? []) force.push(await resolveRunId(config, id));
          return config.recover({ force });
        },
        { recover: false },
      );
      out.data(isoTimes(results));
      if (results.length === 0) return out.line('No interrupted runs: nothing to recover');
      for (const r of results) {
        out.line(recoveredLine(r).replace(/^recovered/, 'Recovered'));
        if (r.compensated.length) out.line(`  compensated (in this order): ${r.compensated.join(', ')}`);
        // A step caught mid-call that recorded what it was about to write is undone from that
        // (so among the compensated); one that recorded nothing had written nothing.
        const interrupted = r.error?.context?.interruptedSteps;
        const untouched = Array.isArray(interrupted)
          ? interrupted.filter((s) => !r.compensated.includes(String(s)))
          : [];
        if (untouched.length)
          out.line(`  interrupted before it wrote anything (nothing to undo): ${untouched.join(', ')}`);
      }
      if (results.some((r) => r.status !== 'compensated')) ctx.exitCode = EXIT.failed;
    });

  noun
    .command('builtins')
    .description('list the built-in workflows and their steps')
    .action((_opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      out.data(BUILT_IN_WORKFLOWS);
      BUILT_IN_WORKFLOWS.forEach((def, i) => {
        if (i > 0) out.line();
        out.lines(describeWorkflow(def));
      });
    });

  noun
    .command('schema')
    .description('print the JSON Schema of a workflow definition')
    .action((_opts: object, cmd: Command) => {
      ctx.output(cmd).raw(JSON.stringify(workflowJsonSchema(), null, 2));
    });
}
