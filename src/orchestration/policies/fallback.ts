import type { StepDefinition } from '../definition.js';
import { codeOf, ok, type Result } from './result.js';

export type FallbackDefinition = NonNullable<StepDefinition['fallback']>;

/** A fallback stands in only while the service's circuit is open: the call was never attempted. */
export const shouldFallback = (error: unknown): boolean => codeOf(error) === 'CIRCUIT_OPEN';

/** The fallback's result: its constant value, or what the alternative operation returns. */
export function executeFallback(
  fallback: FallbackDefinition,
  callOperation: (operation: string, input: unknown) => Promise<Result>,
): Promise<Result> {
  if ('value' in fallback) return Promise.resolve(ok(fallback.value));
  return callOperation(fallback.operation, fallback.input);
}
