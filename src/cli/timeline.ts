import type { SerializedError } from '../domain/errors.js';
import type { PolicyDefinition, StepDefinition, WorkflowDefinition } from '../orchestration/definition.js';
import { INTERRUPTED_STATES, type StepEvent } from '../orchestration/events.js';
import { effectivePolicy } from '../orchestration/policies/policy.js';
import type { RunRecord } from '../orchestration/run-log.js';
import { table } from './format.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** `25 ms`, `1.2 s`, `2 min 5 s`, `3 h 10 min`, `4 d 2 h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < MIN) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => {
    const a = Math.floor(ms / big);
    const b = Math.floor((ms % big) / small);
    return b ? `${a} ${bigUnit} ${b} ${smallUnit}` : `${a} ${bigUnit}`;
  };
  if (ms < HOUR) return two(MIN, 'min', 1000, 's');
  if (ms < DAY) return two(HOUR, 'h', MIN, 'min');
  return two(DAY, 'd', HOUR, 'h');
}

/** A time relative to the start of a run: `+25ms`, `+1.2s`, `+2min5s`. */
export const offset = (ms: number): string => `+${duration(Math.max(0, ms)).replaceAll(' ', '')}`;

/** `2026-01-02 10:11:12Z`: a point in time, to the second. */
export const timestamp = (t: number): string =>
  new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

const firstLine = (s: string) => s.split('\n')[0] ?? '';

/** `CODE: message` (first line of the message). */
export const errorSummary = (e: SerializedError): string => `${e.code}: ${firstLine(e.message)}`;

const CONTEXT_KEYS = ['workflowId', 'stepId', 'service', 'operation', 'attempt'] as const;
const CONTEXT_LABEL: Record<(typeof CONTEXT_KEYS)[number], string> = {
  workflowId: 'workflow',
  stepId: 'step',
  service: 'service',
  operation: 'operation',
  attempt: 'attempt',
};

/** An error with where it happened (workflow, step, service, operation, attempt), its issues and its causes. */
export function describeError(e: SerializedError): string[] {
  const [head = '', ...rest] = e.message.split('\n');
  const lines = [`${e.code}: ${head}`, ...rest.map((l) => `  ${l.trim()}`)];
  const where = CONTEXT_KEYS.filter((k) => e.context?.[k] !== undefined).map(
    (k) => `${CONTEXT_LABEL[k]} ${String(e.context?.[k])}`,
  );
  if (where.length) lines.push(`at ${where.join(', ')}`);
  const compensation = e.context?.compensation;
  if (typeof compensation === 'string') lines.push(`while compensating with ${compensation}`);
  const interrupted = e.context?.interruptedSteps;
  if (Array.isArray(interrupted) && interrupted.length)
    lines.push(`interrupted mid-call: ${interrupted.join(', ')}`);
  for (const i of e.issues ?? []) {
    if (!e.message.includes(i.message)) lines.push(`  ${i.file ? `${i.file}: ` : ''}${i.path}: ${i.message}`);
  }
  for (let c = e.cause, depth = 0; c !== undefined && depth < 10; c = c.cause, depth++) {
    lines.push(`caused by ${errorSummary(c)}`);
  }
  return lines;
}

/** A step's effective policy in words: timeout, retry, circuit breaker, bulkhead. */
export function describePolicy(p: PolicyDefinition): string {
  const parts: string[] = [];
  if (p.timeoutMs !== undefined) parts.push(`timeout ${duration(p.timeoutMs)}`);
  if (p.retry) {
    const r = p.retry;
    const backoff = [
      `from ${duration(r.baseDelayMs)} ×${r.multiplier}`,
      r.maxDelayMs !== undefined ? `max ${duration(r.maxDelayMs)}` : '',
      r.jitterPercent !== undefined ? `jitter ${r.jitterPercent}%` : '',
    ].filter(Boolean);
    parts.push(`retry up to ${r.maxAttempts} attempts (${backoff.join(', ')})`);
  }
  if (p.circuitBreaker) {
    const c = p.circuitBreaker;
    parts.push(`circuit opens after ${c.failureThreshold} failures for ${duration(c.recoveryMs)}`);
  }
  if (p.bulkhead !== undefined) parts.push(`bulkhead ${p.bulkhead}`);
  return parts.join('; ') || 'none';
}

/** Steps grouped by dependency level: level 1 needs nothing, level n needs something of level n-1. */
export function levelsOf(def: WorkflowDefinition): StepDefinition[][] {
  const level = new Map<string, number>();
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const of = (s: StepDefinition): number => {
    const known = level.get(s.id);
    if (known !== undefined) return known;
    const deps = (s.dependsOn ?? []).map((d) => byId.get(d)).filter((d) => d !== undefined);
    const n = deps.length ? Math.max(...deps.map(of)) + 1 : 0;
    level.set(s.id, n);
    return n;
  };
  const levels: StepDefinition[][] = [];
  for (const s of def.steps) {
    const n = of(s);
    levels[n] ??= [];
    levels[n].push(s);
  }
  return levels.filter((l) => l !== undefined);
}

/** The lines under a step in a plan: what it waits for, its policy, compensation, recovery, fallback. */
function stepDetails(s: StepDefinition, policy: PolicyDefinition | undefined): string[] {
  const lines: string[] = [];
  if (s.dependsOn?.length) lines.push(`after ${s.dependsOn.join(', ')}`);
  if (policy) lines.push(`policy: ${describePolicy(policy)}`);
  lines.push(
    s.compensate ? `compensate: ${s.service}.${s.compensate.operation}` : 'compensate: none (not undone)',
  );
  if (s.recovery) lines.push(`recovery: ${s.recovery}`);
  if (s.fallback)
    lines.push(
      'operation' in s.fallback
        ? `fallback: ${s.service}.${s.fallback.operation}`
        : `fallback: the value ${JSON.stringify(s.fallback.value)}`,
    );
  return lines;
}

/** A plan step as JSON: what `workflow run --dry-run --json` prints per step. */
export function planStep(
  s: StepDefinition,
  def: WorkflowDefinition,
  servicePolicies: Record<string, PolicyDefinition>,
) {
  return {
    id: s.id,
    service: s.service,
    operation: s.operation,
    dependsOn: s.dependsOn ?? [],
    policy: effectivePolicy(s, def, servicePolicies),
    compensate: s.compensate ? `${s.service}.${s.compensate.operation}` : null,
    recovery: s.recovery ?? null,
    fallback: s.fallback ?? null,
  };
}

/** What `workflow run --dry-run` prints: the steps level by level, with policies and compensations. */
export function describePlan(
  def: WorkflowDefinition,
  servicePolicies: Record<string, PolicyDefinition>,
): string[] {
  const levels = levelsOf(def);
  const lines = [
    `Workflow ${def.id}${def.name ? ` (${def.name})` : ''}: ${def.steps.length} step${def.steps.length === 1 ? '' : 's'} in ${levels.length} level${levels.length === 1 ? '' : 's'}, at most ${def.maxParallel} at a time`,
  ];
  if (def.description) lines.push(`  ${def.description}`);
  levels.forEach((steps, i) => {
    lines.push(`Level ${i + 1}${steps.length > 1 ? ' (in parallel)' : ''}:`);
    for (const s of steps) {
      lines.push(`  ${s.id}  ${s.service}.${s.operation}`);
      const policy = effectivePolicy(s, def, servicePolicies);
      for (const d of stepDetails(s, policy)) lines.push(`      ${d}`);
    }
  });
  const undoable = def.steps.filter((s) => s.compensate).map((s) => s.id);
  lines.push(
    undoable.length
      ? `On failure, completed steps among ${undoable.join(', ')} are compensated in reverse completion order.`
      : 'On failure, nothing is compensated (no step has a compensation).',
  );
  return lines;
}

/** One built-in workflow: its description, then a table of its steps. */
export function describeWorkflow(def: WorkflowDefinition): string[] {
  const rows = def.steps.map((s) => [
    s.id,
    `${s.service}.${s.operation}`,
    s.dependsOn?.join(', ') || '-',
    s.compensate ? `${s.service}.${s.compensate.operation}` : '-',
    s.recovery ?? '-',
  ]);
  return [
    `${def.id}${def.description ? `: ${def.description}` : ''}`,
    ...table(['STEP', 'OPERATION', 'AFTER', 'COMPENSATE', 'RECOVERY'], rows).map((l) => `  ${l}`),
  ];
}

type StepLogEvent = StepEvent & { type: 'step' };

interface AttemptLine {
  kind: 'attempt';
  attempt: number;
  at: number;
  durationMs?: number;
  result?: string;
}
interface CompensationLine {
  kind: 'compensation';
  operation: string;
  at: number;
  durationMs?: number;
  result?: string;
}
type Line = AttemptLine | CompensationLine | { kind: 'text'; text: string };

/** A step's events as lines: attempts with offset, duration and result, retries, circuit, compensation. */
function stepLines(record: RunRecord, stepId: string): string[] {
  const t0 = record.createdAt;
  const def = record.definition.steps.find((s) => s.id === stepId);
  const events = record.events.filter((e): e is StepLogEvent => e.type === 'step' && e.stepId === stepId);
  const lines: Line[] = [];
  const attempts = new Map<number, AttemptLine>();
  let comp: CompensationLine | undefined;
  let starts = 0;
  let lastError: string | undefined;
  const text = (t: string) => lines.push({ kind: 'text', text: t });
  for (const e of events) {
    switch (e.kind) {
      case 'start':
        if (++starts > 1) text(`started again ${offset(e.at - t0)}`);
        break;
      case 'attempt': {
        const a: AttemptLine = { kind: 'attempt', attempt: e.attempt, at: e.at };
        attempts.set(e.attempt, a);
        lines.push(a);
        break;
      }
      case 'attempt-failed': {
        const a = attempts.get(e.attempt);
        if (a) {
          if (e.durationMs !== undefined) a.durationMs = e.durationMs;
          if (e.error) a.result = lastError = errorSummary(e.error);
        }
        break;
      }
      case 'retry-scheduled':
        text(`retry: attempt ${e.attempt}${e.delayMs !== undefined ? ` after ${duration(e.delayMs)}` : ''}`);
        break;
      case 'conflict-retry':
        text(`conflict: re-run as attempt ${e.attempt}${e.error ? ` (${e.error.code})` : ''}`);
        break;
      case 'circuit':
        text(`circuit ${e.circuit} ${offset(e.at - t0)} (service ${e.service})`);
        break;
      case 'requeued':
        text(`re-queued to run on its own ${offset(e.at - t0)}`);
        break;
      case 'success': {
        const a = attempts.get(e.attempt);
        if (e.viaFallback) text(`fallback used ${offset(e.at - t0)}: ok`);
        else if (a) {
          a.durationMs ??= e.at - a.at;
          a.result = 'ok';
        } else text(`succeeded ${offset(e.at - t0)}`);
        break;
      }
      case 'failure': {
        const summary = e.error ? errorSummary(e.error) : undefined;
        if (summary && summary !== lastError) text(`failed ${offset(e.at - t0)}: ${summary}`);
        break;
      }
      case 'deferred':
        text(
          `deferred ${offset(e.at - t0)}${e.retryAt !== undefined ? `, retry at ${timestamp(e.retryAt)} (${offset(e.retryAt - t0)})` : ''}`,
        );
        break;
      case 'skipped':
        text('skipped: a step it depends on did not complete');
        break;
      case 'compensate-start':
        comp = { kind: 'compensation', operation: def?.compensate?.operation ?? '?', at: e.at };
        lines.push(comp);
        break;
      case 'compensated':
      case 'compensation-failed': {
        const c = comp ?? {
          kind: 'compensation' as const,
          operation: def?.compensate?.operation ?? '?',
          at: e.at,
        };
        if (!comp) lines.push(c);
        if (e.durationMs !== undefined) c.durationMs = e.durationMs;
        c.result = e.kind === 'compensated' ? 'ok' : e.error ? errorSummary(e.error) : 'failed';
        comp = undefined;
        break;
      }
      default:
        break;
    }
  }
  const service = def?.service ?? '';
  return lines.map((l) => {
    if (l.kind === 'text') return l.text;
    const dur = l.durationMs !== undefined ? duration(l.durationMs) : '-';
    const result = l.result ?? '(no result recorded)';
    return l.kind === 'attempt'
      ? `attempt ${l.attempt}  ${offset(l.at - t0)}  ${dur}  ${result}`
      : `compensation ${service}.${l.operation}  ${offset(l.at - t0)}  ${dur}  ${result}`;
  });
}

/** What `troupe workflow show` prints: a run's timeline, step by step, from its log (`held`: a live runner has it). */
export function describeRun(record: RunRecord, held = false): string[] {
  const t0 = record.createdAt;
  const def = record.definition;
  const lines = [`Run ${record.runId}`];
  const owner = record.owner ? ` by process ${record.owner.pid} on ${record.owner.host}` : '';
  lines.push(
    `  workflow  ${record.workflowId}${def.name ? ` (${def.name})` : ''}`,
    `  state     ${record.state}${INTERRUPTED_STATES.has(record.state) ? (held ? ' (still running)' : ' (interrupted; the next troupe command compensates it)') : ''}`,
    `  started   ${timestamp(t0)}${owner}`,
    `  took      ${duration(record.updatedAt - t0)}`,
  );

  lines.push('', 'States:');
  for (const s of record.states) lines.push(`  ${offset(s.at - t0).padEnd(9)} ${s.state}`);

  lines.push('', 'Steps:');
  for (const s of record.steps) {
    const spec = def.steps.find((d) => d.id === s.stepId);
    const after = spec?.dependsOn?.length ? `  after ${spec.dependsOn.join(', ')}` : '';
    const status = s.status === 'pending' && !INTERRUPTED_STATES.has(record.state) ? 'not run' : s.status;
    lines.push(`  ${s.stepId}  ${s.service}.${s.operation}  ${status}${after}`);
    for (const l of stepLines(record, s.stepId)) lines.push(`      ${l}`);
  }

  const compensations = record.events.filter(
    (e): e is StepLogEvent =>
      e.type === 'step' && (e.kind === 'compensated' || e.kind === 'compensation-failed'),
  );
  if (compensations.length) {
    lines.push('', 'Compensations (in the order they ran):');
    compensations.forEach((e, i) => {
      const op = def.steps.find((d) => d.id === e.stepId)?.compensate?.operation ?? '?';
      const result =
        e.kind === 'compensated' ? 'compensated' : `failed: ${e.error ? errorSummary(e.error) : ''}`;
      const took = e.durationMs ?? 0;
      lines.push(
        `  ${i + 1}. ${e.stepId}  ${e.service}.${op}  ${offset(e.at - took - t0)}  ${duration(took)}  ${result}`,
      );
    });
  } else if (record.state === 'compensated' || record.state === 'failed') {
    lines.push('', 'Compensations: none (no completed step had one)');
  }

  if (record.deferred.length) {
    lines.push('', 'Deferred:');
    for (const d of record.deferred)
      lines.push(
        `  ${d.stepId}  retry at ${timestamp(d.retryAt)} (${offset(d.retryAt - t0)})  ${errorSummary(d.error)}`,
      );
    if (record.state === 'partially-completed')
      lines.push(`  finish with \`troupe workflow resume ${record.runId}\``);
  }

  const issues = record.checkpoints.filter((c) => c.issues.length > 0);
  if (issues.length) {
    lines.push('', 'Checkpoint issues:');
    for (const c of issues) {
      const where = c.phase === 'step' ? `after step ${c.stepId}` : `on ${c.phase}`;
      lines.push(`  ${offset(c.at - t0)} ${where}:`);
      for (const i of c.issues)
        lines.push(`    ${i.file ?? i.entity ?? ''}${i.file || i.entity ? ': ' : ''}${i.path}: ${i.message}`);
    }
  }

  const error = record.outcome?.error;
  if (error) {
    lines.push('', 'Error:');
    for (const l of describeError(error)) lines.push(`  ${l}`);
  }
  return lines;
}
