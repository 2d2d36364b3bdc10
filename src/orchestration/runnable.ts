import type { Issue } from '../domain/errors.js';
import { suggest } from '../domain/suggest.js';
import type { PolicyDefinition, WorkflowDefinition } from './definition.js';
import type { ServiceHandlers } from './handlers.js';
import { literalInputIssues, type OperationTable } from './operations.js';
import { effectivePolicy } from './policies/policy.js';

/** What a definition is checked against: the operations there are, and the bulkheads configured. */
export interface RunnableEnv {
  services: ServiceHandlers;
  /** The operations' schemas, when known: a step's literal input is checked against them. */
  operations?: OperationTable | undefined;
  servicePolicies?: Record<string, PolicyDefinition> | undefined;
  bulkheads: readonly string[];
}

/**
 * Why a valid definition cannot run here: an operation, compensation or fallback naming no
 * handler (with the closest ones there are), a policy naming a bulkhead not configured. The one
 * check of the runner before a run starts and of `troupe workflow run|validate` before it asks.
 */
export function runnableIssues(def: WorkflowDefinition, env: RunnableEnv): Issue[] {
  const issues: Issue[] = [];
  const all = Object.entries(env.services).flatMap(([s, ops]) => Object.keys(ops).map((o) => `${s}.${o}`));
  const need = (service: string, operation: string, path: string) => {
    const ops = env.services[service];
    if (typeof ops?.[operation] === 'function') return;
    const close = suggest(`${service}.${operation}`, all);
    const hint = ops
      ? ` (service "${service}" has ${Object.keys(ops).join(', ')})`
      : Object.keys(env.services).length
        ? ` (services are ${Object.keys(env.services).join(', ')})`
        : '';
    const mean = close.length ? `; did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : '';
    issues.push({ path, message: `no handler for "${service}.${operation}"${mean}${hint}` });
  };
  def.steps.forEach((s, i) => {
    need(s.service, s.operation, `steps.${i}.operation`);
    const op = env.operations?.[s.service]?.[s.operation];
    if (op && s.input !== undefined) issues.push(...literalInputIssues(op, s.input, `steps.${i}.input`));
    if (s.compensate) need(s.service, s.compensate.operation, `steps.${i}.compensate.operation`);
    if (s.fallback && 'operation' in s.fallback)
      need(s.service, s.fallback.operation, `steps.${i}.fallback.operation`);
    const pool = effectivePolicy(s, def, env.servicePolicies).bulkhead;
    if (pool !== undefined && !env.bulkheads.includes(pool))
      issues.push({
        path: `steps.${i}.policy.bulkhead`,
        message: `unknown bulkhead "${pool}"; configured: ${env.bulkheads.join(', ') || '(none)'}`,
      });
  });
  return issues;
}
