import type { PolicyDefinition } from '../orchestration/definition.js';

/** Default policies of the built-in workflows: short timeouts, a few retries of transient errors. */
export const DEFAULT_SERVICE_POLICY: PolicyDefinition = {
  timeoutMs: 30_000, // above the file store's lock timeout (15 s): a wait for the lock is not a hang
  retry: { maxAttempts: 3, baseDelayMs: 50, multiplier: 2, maxDelayMs: 1000, jitterPercent: 25 },
  circuitBreaker: { failureThreshold: 5, recoveryMs: 5000 },
};

/** The default policy for each of the given services (the built-in ones: `Object.keys(operations.table)`). */
export const defaultPolicies = (services: object): Record<string, PolicyDefinition> =>
  Object.fromEntries(Object.keys(services).map((s) => [s, DEFAULT_SERVICE_POLICY]));
