/** Writes a key's items, in order, in one go; `durable` asks for a synchronous commit. */
export type WriteItems<T> = (key: string, items: T[], durable: boolean) => Promise<void>;

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
export class WriteBehind<T> {
  readonly #write: WriteItems<T>;
  readonly #queued = new Map<string, T[]>();
  /** The last write of each key still under way. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #scheduled = false;

  constructor(write: WriteItems<T>) {
    this.#write = write;
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
    const before = this.#inFlight.get(key);
    const write = async () => {
      const items = this.#queued.get(key);
      if (!items?.length) return;
      this.#queued.delete(key);
      try {
        await this.#write(key, items, durable);
      } catch (e) {
        this.#queued.set(key, [...items, ...(this.#queued.get(key) ?? [])]);
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
