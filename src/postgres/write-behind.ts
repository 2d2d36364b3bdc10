/** Writes a key's items, in order, in one go; `durable` asks for a synchronous commit. */
export type WriteItems<T extends object> = (key: string, items: T[], durable: boolean) => Promise<void>;

/**
 * Items written behind, in a queue per key: `add` queues one, and everything queued goes out at
 * the next turn of the event loop, one write per key; `send` writes what is queued for a key
 * now and resolves once it (and every earlier write of the key) is done. Writes of one key
 * never overlap and keep their order. A write that fails puts its items back in front of the
 * queue, so the next `send` tries them again and reports the error.
 *
 * @example
 * ```ts
 * const queue = new WriteBehind<RunEvent>((runId, events, durable) => insert(runId, events, durable));
 * queue.add(runId, progress); // returns at once
 * await queue.send(runId, true); // progress and everything before it, committed
 * ```
 */
export class WriteBehind<T extends object> {
  readonly #write: WriteItems<T>;
  readonly #queued = new Map<string, T[]>();
  /** The last write of each key still under way. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Keys a durable send is waiting on: whichever write takes their items commits them durably. */
  readonly #durable = new Set<string>();
  #scheduled = false;

  constructor(write: WriteItems<T>) {
    this.#write = write;
  }

  /** Items written (by identity): a retried add of one is not written twice. */
  readonly #written = new WeakSet<T>();

  /**
   * Whether this very item is queued for `key`, or written already (a write that failed put it
   * back, and another send wrote it since): a retried add of it is not added twice.
   */
  has(key: string, item: T): boolean {
    return this.#written.has(item) || (this.#queued.get(key)?.includes(item) ?? false);
  }

  add(key: string, item: T): void {
    const items = this.#queued.get(key);
    if (items) items.push(item);
    else this.#queued.set(key, [item]);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      // A failure here is kept in the queue and reported by the next `send` of the key.
      for (const k of [...this.#queued.keys()]) this.send(k, false).catch(() => undefined);
    });
  }

  /** Writes what is queued for `key` after its earlier writes; resolves when all are done. */
  send(key: string, durable: boolean): Promise<void> {
    // The durability asked for belongs to the items queued now, whichever write takes them (an
    // earlier send still waiting its turn takes them too).
    if (durable && this.#queued.get(key)?.length) this.#durable.add(key);
    const before = this.#inFlight.get(key);
    const write = async () => {
      const items = this.#queued.get(key);
      if (!items?.length) return;
      this.#queued.delete(key);
      const sync = this.#durable.delete(key);
      try {
        await this.#write(key, items, sync);
        for (const i of items) this.#written.add(i);
      } catch (e) {
        this.#queued.set(key, [...items, ...(this.#queued.get(key) ?? [])]);
        if (sync) this.#durable.add(key);
        throw e;
      }
    };
    const next = before ? before.catch(() => undefined).then(write) : write();
    this.#inFlight.set(key, next);
    const settled = () => {
      if (this.#inFlight.get(key) === next) this.#inFlight.delete(key);
    };
    next.then(settled, settled);
    return next;
  }

  /** Writes everything queued, for every key; resolves when all of it is done. */
  async sendAll(): Promise<void> {
    const keys = new Set([...this.#queued.keys(), ...this.#inFlight.keys()]);
    await Promise.all([...keys].map((k) => this.send(k, false)));
  }
}
