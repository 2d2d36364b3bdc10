import { createServices, type Services } from '../configuration/services.js';
import { TroupeError } from '../domain/errors.js';
import { type Clock, VirtualClock } from '../orchestration/clock.js';
import type { ServiceHandlers } from '../orchestration/handlers.js';
import { MemoryStore } from '../storage/memory/store.js';
import type {
  BatchOp,
  CommitOptions,
  CommitResult,
  DocInput,
  Kind,
  Store,
  StoredDoc,
  WriteOptions,
} from '../storage/store.js';
import { FaultInjector } from './faults.js';

export interface FakeServiceOptions {
  /** Methods to treat as async although not declared `async` (they return a promise). */
  asyncMethods?: readonly string[];
  /**
   * Methods that start a read to be awaited later (a failure is heard where it is awaited):
   * faulted as async ones, their promise never reported unhandled meanwhile.
   */
  aheadMethods?: readonly string[];
}

const realOf = new WeakMap<object, object>();

/** Ids counted from 1 (`c000001`, `run-0001`): the same on every run of a test, unlike random ones. */
export function countedIds(prefix: string, digits: number): () => string {
  let n = 0;
  return () => `${prefix}${(++n).toString().padStart(digits, '0')}`;
}

// The constructor of `async function` values; a method declared async is one of these.
const AsyncFunction = (async () => {}).constructor;

/** An AbortSignal among the arguments, or in an argument's `signal` field (a StepContext, `{ signal }`). */
function findSignal(args: readonly unknown[]): AbortSignal | undefined {
  for (const a of args) {
    if (a instanceof AbortSignal) return a;
    const s = typeof a === 'object' && a !== null ? (a as { signal?: unknown }).signal : undefined;
    if (s instanceof AbortSignal) return s;
  }
  return undefined;
}

/**
 * A Proxy over a real service: each async method first applies the faults for
 * (`name`, method name), then calls the real method; sync methods (parse, compose: work that
 * cannot be "unavailable") pass through, counted, never faulted.
 * The real method runs with the real object as `this`, so its internal calls are not faulted.
 *
 * @example
 * ```ts
 * const faults = new FaultInjector({ clock: new VirtualClock() });
 * const personalities = fakeService(new PersonalityService(new MemoryStore()), 'personalities', faults);
 * faults.failNext('personalities', 1, 'TRANSIENT', 'create');
 * await personalities.create(samplePersonality).catch(() => {}); // TRANSIENT, nothing written
 * await personalities.create(samplePersonality); // written; faults.callCount('personalities') is 2
 * ```
 */
export function fakeService<T extends object>(
  real: T,
  name: string,
  faults: FaultInjector,
  clock: Clock = faults.clock,
  opts: FakeServiceOptions = {},
): T {
  const aheadNames = new Set(opts.aheadMethods ?? []);
  const asyncNames = new Set([...(opts.asyncMethods ?? []), ...aheadNames]);
  const wrapped = new Map<string, unknown>();
  const proxy = new Proxy(real, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop === 'symbol' || prop === 'constructor') return value;
      const cached = wrapped.get(prop);
      if (cached !== undefined) return cached;
      const fn = value as (...args: unknown[]) => unknown;
      const invoked = (...args: unknown[]) =>
        faults.invoke(name, prop, () => fn.apply(target, args), { signal: findSignal(args), clock });
      const wrapper =
        fn instanceof AsyncFunction || asyncNames.has(prop)
          ? aheadNames.has(prop)
            ? (...args: unknown[]) => {
                const read = invoked(...args);
                read.catch(() => undefined);
                return read;
              }
            : invoked
          : (...args: unknown[]) => faults.passThrough(name, prop, () => fn.apply(target, args));
      wrapped.set(prop, wrapper);
      return wrapper;
    },
  });
  realOf.set(proxy, real);
  return proxy;
}

/**
 * The real object behind a fake (or the value itself if it is not one): calls to it are neither
 * faulted nor counted. The real service still uses the fake's store, whose calls are.
 *
 * @example
 * ```ts
 * const { services, faults } = createFakeServices();
 * faults.makeUnavailable('roles');
 * const roles = await unwrapFake(services.roles).list(); // the "roles" fault does not apply
 * ```
 */
export function unwrapFake<T extends object>(maybeFake: T): T {
  return (realOf.get(maybeFake) as T | undefined) ?? maybeFake;
}

/**
 * Workflow handlers with faults: every operation of every service goes through the injector.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const faults = new FaultInjector({ clock });
 * const services = fakeHandlers({ mail: { send: async () => ({ id: 'm1' }) } }, faults);
 * faults.hangNext('mail', 'send'); // the step's timeout ends the call
 * const def = workflow('notify').step('send', 'mail', 'send', { policy: { timeoutMs: 1_000 } }).build();
 * const result = await clock.drive(new WorkflowRunner({ services, clock }).run(def)); // error.code TIMEOUT
 * ```
 */
export function fakeHandlers(
  handlers: ServiceHandlers,
  faults: FaultInjector,
  clock: Clock = faults.clock,
): ServiceHandlers {
  const out: ServiceHandlers = {};
  for (const [service, ops] of Object.entries(handlers))
    out[service] = fakeService(ops, service, faults, clock, { asyncMethods: Object.keys(ops) });
  return out;
}

/**
 * A Store wrapper that can die mid-commit: after `crashNextCommit()` the next write is not
 * applied and throws PERMANENT with context `{ crash: true }`, so the inner store keeps its
 * before-state. Every write (put, delete, commit) is a commit here. With `faults`, each call
 * also goes through the injector as service `name` ("store").
 *
 * @example
 * ```ts
 * const store = new FaultyStore(new MemoryStore());
 * const config = new ConfigurationService(store);
 * store.crashNextCommit();
 * await config.createPersonality(samplePersonality).catch(() => {}); // PERMANENT, context.crash
 * store.crashedCommits; // 1, and store.inner holds no personality
 * ```
 */
export class FaultyStore implements Store {
  readonly inner: Store;
  readonly name: string;
  readonly #faults: FaultInjector | undefined;
  #armed = 0;
  #commits = 0;
  #crashed = 0;

  constructor(inner: Store, opts: { faults?: FaultInjector; name?: string } = {}) {
    this.inner = inner;
    this.name = opts.name ?? 'store';
    this.#faults = opts.faults;
  }

  /** The next `n` commits (default 1) crash without being applied. */
  crashNextCommit(n = 1): this {
    if (!(Number.isInteger(n) && n >= 1))
      throw new TroupeError('USAGE', `crashNextCommit: n must be an integer ≥ 1, got ${n}`);
    this.#armed += n;
    return this;
  }

  /** Commits applied. */
  get commits(): number {
    return this.#commits;
  }

  /** Commits that crashed (not applied). */
  get crashedCommits(): number {
    return this.#crashed;
  }

  #through<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.#faults ? this.#faults.invoke(this.name, operation, call) : call();
  }

  get(kind: Kind, id: string): Promise<StoredDoc | undefined> {
    return this.#through('get', () => this.inner.get(kind, id));
  }

  list(kind: Kind): Promise<StoredDoc[]> {
    return this.#through('list', () => this.inner.list(kind));
  }

  async put(kind: Kind, doc: DocInput, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.#commit('put', [
      { op: 'put', kind, doc, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  async delete(kind: Kind, id: string, opts: WriteOptions = {}): Promise<StoredDoc> {
    const { results } = await this.#commit('delete', [
      { op: 'delete', kind, id, expectedRevision: opts.expectedRevision },
    ]);
    return results[0]!.doc;
  }

  commit(ops: BatchOp[], opts: CommitOptions = {}): Promise<CommitResult> {
    return this.#commit('commit', ops, opts);
  }

  /** The inner store's source of commit ids, if it has one of its own. */
  get newCommitId(): (() => string) | undefined {
    const ids = this.inner.newCommitId;
    return ids && (() => ids.call(this.inner));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #commit(operation: string, ops: BatchOp[], opts: CommitOptions = {}): Promise<CommitResult> {
    return this.#through(operation, async () => {
      if (this.#armed > 0) {
        this.#armed -= 1;
        this.#crashed += 1;
        throw new TroupeError(
          'PERMANENT',
          `${this.name}: crashed during ${operation} of ${ops.length} op(s)`,
          {
            retryable: false,
            context: { crash: true, service: this.name, operation, ops: ops.length },
          },
        );
      }
      const result = await this.inner.commit(ops, opts);
      this.#commits += 1;
      return result;
    });
  }
}

export interface FakeServicesOptions {
  /** The store under the services; defaults to a MemoryStore stamped by `now`. */
  store?: Store;
  faults?: FaultInjector;
  /** Defaults to the injector's clock, or a new VirtualClock. */
  clock?: Clock;
  /** Store timestamps; defaults to `clock.now()`. */
  now?: () => number;
}

export interface FakeServices {
  /** Proxies of the real services over `store`; `services.store` is `store`. */
  services: Services;
  store: FaultyStore;
  faults: FaultInjector;
  clock: Clock;
}

/**
 * The five services as fakes over one (faulty) store, sharing one injector. To run the
 * ConfigurationService over them, `createTestConfiguration` does the wiring.
 *
 * @example
 * ```ts
 * const { services, faults } = createFakeServices();
 * faults.makeUnavailable('roles');
 * await services.roles.list().catch(() => {}); // TRANSIENT "service unavailable"
 * faults.restore('roles');
 * ```
 */
export function createFakeServices(opts: FakeServicesOptions = {}): FakeServices {
  const clock = opts.clock ?? opts.faults?.clock ?? new VirtualClock();
  const faults = opts.faults ?? new FaultInjector({ clock });
  const now = opts.now ?? (() => clock.now());
  // Commit ids counted, not random: the same calls store the same documents on every run.
  const given = opts.store ?? new MemoryStore({ now, newCommitId: countedIds('c', 6) });
  const store = given instanceof FaultyStore ? given : new FaultyStore(given, { faults });
  const real = createServices(store);
  const services: Services = {
    store,
    personalities: fakeService(real.personalities, 'personalities', faults, clock),
    roles: fakeService(real.roles, 'roles', faults, clock),
    agents: fakeService(real.agents, 'agents', faults, clock),
    models: fakeService(real.models, 'models', faults, clock, { aheadMethods: ['catalogAhead'] }),
    files: fakeService(real.files, 'files', faults, clock),
  };
  return { services, store, faults, clock };
}
