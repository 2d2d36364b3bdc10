import { ConfigurationService } from '../configuration/configuration-service.js';
import type { Services } from '../configuration/services.js';
import type { PolicyDefinition } from '../orchestration/definition.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import type { BulkheadOptions } from '../orchestration/policies/bulkhead.js';
import { MemoryRunLog } from '../orchestration/run-log.js';
import type { Store } from '../storage/store.js';
import { createTestEnvironment, type TestEnvironment, type TestEnvironmentOptions } from './environment.js';
import { countedIds, createFakeServices, type FaultyStore, fakeHandlers } from './fakes.js';
import { FaultInjector } from './faults.js';
import { WorkflowRecorder } from './recorder.js';

export interface TestConfigurationOptions extends TestEnvironmentOptions {
  /** An environment to use instead of a new one (its clock, random and temp dirs). */
  env?: TestEnvironment;
  /** The store under the fakes; defaults to a MemoryStore stamped by the virtual clock. */
  store?: Store;
  servicePolicies?: Record<string, PolicyDefinition>;
  sensitiveKeys?: string[];
  /**
   * Also route the workflow operations (`agent.compose`, `file.persist`, ...) through the
   * injector, under the workflows' service names (`personality`, `role`, `model`, `agent`,
   * `file`, `configuration`), so a fault can fail one step. Default true.
   */
  stepFaults?: boolean;
  /** Bulkhead pools the workflows' policies may name. */
  bulkheads?: Record<string, BulkheadOptions>;
  /** Extra operations (a service of your own) for user workflows, built over the fakes. */
  handlers?: (services: Services) => ServiceHandlers;
}

/** Everything a coordinated test needs, wired together. */
export interface TestConfiguration {
  env: TestEnvironment;
  clock: TestEnvironment['clock'];
  random: TestEnvironment['random'];
  faults: FaultInjector;
  /** The fakes the ConfigurationService coordinates (faults under `personalities`, `agents`, ...). */
  services: Services;
  /** The store every service writes to; `store.inner` is the plain MemoryStore. */
  store: FaultyStore;
  runLog: MemoryRunLog;
  config: ConfigurationService;
  /** Attached to `config.runner`. */
  recorder: WorkflowRecorder;
  /** Run `promise` on the virtual clock until it settles (retries, timeouts, latency). */
  drive<T>(promise: Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

/**
 * A ConfigurationService over fake services on a virtual clock, with a seeded random, an
 * in-memory run log, a fault injector and a recorder attached to its runner. Faults can be
 * injected per async service method (`faults.failNext('agents', 1, 'TRANSIENT',
 * 'usingPersonality')` fails a personality update's read of its agents; sync methods such as
 * `parse` and `compose` are never faulted), per workflow operation
 * (`faults.failNext('agent', 1, 'PERMANENT', 'compose')`) or on the store
 * (`faults.addLatency('store', 50)`, `store.crashNextCommit()`).
 *
 * @example
 * ```ts
 * const tc = createTestConfiguration();
 * await tc.drive(tc.config.createPersonality(samplePersonality));
 * await tc.drive(tc.config.createRole(sampleRole));
 * tc.faults.failNext('agent', 1, 'TRANSIENT', 'compose'); // the retry succeeds
 * const { agent } = await tc.drive(tc.config.createAgent({ agent: sampleAgent('ada') }));
 * await assertReferencesIntact(tc.services);
 * ```
 */
export function createTestConfiguration(opts: TestConfigurationOptions = {}): TestConfiguration {
  const env = opts.env ?? createTestEnvironment(opts);
  const { clock, random } = env;
  const faults = new FaultInjector({ clock });
  const now = () => clock.now();
  const fakes = createFakeServices({ faults, clock, now, ...(opts.store ? { store: opts.store } : {}) });
  const runLog = new MemoryRunLog();
  const config = new ConfigurationService(fakes.store, {
    // Run ids counted, not random: with the seed, every run of a test records the same.
    newRunId: countedIds('run-', 4),
    services: fakes.services,
    clock,
    random,
    runLog,
    now,
    ...(opts.servicePolicies ? { servicePolicies: opts.servicePolicies } : {}),
    ...(opts.sensitiveKeys ? { sensitiveKeys: opts.sensitiveKeys } : {}),
    ...(opts.bulkheads ? { bulkheads: opts.bulkheads } : {}),
    wrapHandlers: (h) => {
      const all = opts.handlers ? { ...h, ...opts.handlers(fakes.services) } : h;
      return opts.stepFaults === false ? all : fakeHandlers(all, faults, clock);
    },
  });
  const recorder = new WorkflowRecorder();
  recorder.attach(config.runner);
  return {
    env,
    clock,
    random,
    faults,
    services: fakes.services,
    store: fakes.store,
    runLog,
    config,
    recorder,
    drive: (promise) => clock.drive(promise),
    cleanup: () => env.cleanup(),
  };
}
