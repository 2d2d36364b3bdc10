/** How long a failed background write waits before it is tried again. */
const RETRY_MS = 100;

/** A key held by another transaction's write (see WriteBehind.hold). */
export interface Held<T> {
  /**
   * Writes the key's queued items up to and including `through` with `via` (a write in another
   * transaction); they count as written once `via` resolves, else go back in front of the queue.
   */
  write(through: T, via: (items: T[]) => Promise<void>): Promise<void>;
  /** Ends the hold (idempotent): what is still queued goes out behind. */
  release(): void;
}

/** Writes a key's items, in order, in one go; `durable` asks for a synchronous commit. */
export type WriteItems<T extends object> = (key: string, items: T[], durable: boolean) => Promise<void>;

/**
 * Items written behind, in a queue per key: `add` queues one, and everything queued goes out at
 * the next turn of the event loop (or after `delayMs`), one write per key; `send` writes what is queued for a key
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
  /** Keys with a background flush due. */
  readonly #scheduled = new Set<string>();

  readonly #delayMs: number;

  /**
   * `delayMs`: how long what is added waits for more to go with it (0: the next turn of the
   * event loop). Writes of progress in one go instead of one per step keep a database's disk
   * and processor for the writes that must wait for them.
   */
  constructor(write: WriteItems<T>, opts: { delayMs?: number } = {}) {
    this.#write = write;
    this.#delayMs = opts.delayMs ?? 0;
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
    this.#schedule(key, this.#delayMs);
  }

  /**
   * A background flush of `key`, `ms` from now (0: the next turn), unless one is due: each key
   * on its own clock, so a key added just now is not swept out early by another's flush.
   */
  #schedule(key: string, ms: number): void {
    if (this.#scheduled.has(key)) return;
    this.#scheduled.add(key);
    const flush = () => {
      this.#scheduled.delete(key);
      if (!this.#queued.get(key)?.length) return; // gone out with a send already
      // A failure here is kept in the queue, reported by the next `send` of the key, and tried
      // again in the background a little later (see #writeAfter).
      this.send(key, false).catch(() => undefined);
    };
    if (ms > 0) setTimeout(flush, ms).unref();
    else setImmediate(flush);
  }

  /** Writes what is queued for `key` after its earlier writes; resolves when all are done. */
  send(key: string, durable: boolean): Promise<void> {
    // The durability asked for belongs to the items queued now, whichever write takes them (an
    // earlier send still waiting its turn takes them too).
    if (durable && this.#queued.get(key)?.length) this.#durable.add(key);
    // A held key's items go out once it is released (or with the write that holds it).
    const held = this.#holds.get(key);
    if (held) return held.then(() => this.send(key, durable));
    return this.#writeAfter(key, () => {
      const items = this.#queued.get(key);
      if (items?.length) this.#queued.delete(key);
      return items;
    });
  }

  /**
   * Writes the items `take` takes from the key's queue once its earlier writes are done (with
   * `via` instead of the queue's own write, if given): marked written on success, put back in
   * front of the queue on failure.
   */
  #writeAfter(key: string, take: () => T[] | undefined, via?: (items: T[]) => Promise<void>): Promise<void> {
    const before = this.#inFlight.get(key);
    const write = async () => {
      const items = take();
      if (!items?.length) return;
      // A write in another transaction (always synchronous) takes the durability asked for
      // only if it takes everything queued: items left behind keep it.
      const sync = via && this.#queued.has(key) ? false : this.#durable.delete(key);
      try {
        await (via ? via(items) : this.#write(key, items, sync));
        for (const i of items) this.#written.add(i);
      } catch (e) {
        this.#queued.set(key, [...items, ...(this.#queued.get(key) ?? [])]);
        if (sync) this.#durable.add(key);
        // Tried again in the background a little later (the database may be back by then),
        // whether or not anyone sends the key again.
        this.#schedule(key, Math.max(this.#delayMs, RETRY_MS));
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

  /** Keys held (see `hold`), each with the promise its release resolves. */
  readonly #holds = new Map<string, Promise<void>>();

  /** Whether `key` is held now. */
  isHeld(key: string): boolean {
    return this.#holds.has(key);
  }

  /** The items queued for `key`, in order (not yet taken by a write). */
  queued(key: string): readonly T[] {
    return this.#queued.get(key) ?? [];
  }

  /**
   * Holds `key`: nothing of it goes out (in the background or by `send`) until `release`, but
   * through the hold's own `write`, which another transaction makes (a commit that carries
   * them). Resolves once the writes of the key begun before it are done, so that write is
   * next. A key is held by one holder at a time: a second `hold` is a usage error.
   */
  async hold(key: string): Promise<Held<T>> {
    if (this.#holds.has(key)) throw new Error(`write-behind key "${key}" is held already`);
    let open: () => void = () => {};
    this.#holds.set(
      key,
      new Promise<void>((r) => {
        open = r;
      }),
    );
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#holds.delete(key);
      open();
      // What the hold kept back goes out behind, as if added now.
      if (this.#queued.get(key)?.length) this.send(key, false).catch(() => undefined);
    };
    await this.#inFlight.get(key)?.catch(() => undefined);
    return {
      write: (through, via) =>
        this.#writeAfter(
          key,
          () => {
            const items = this.#queued.get(key);
            const n = items ? items.indexOf(through) + 1 : 0;
            if (!items || n === 0) return undefined; // written already
            const taken = items.splice(0, n);
            if (!items.length) this.#queued.delete(key);
            return taken;
          },
          via,
        ),
      release,
    };
  }

  /** Writes everything queued, for every key; resolves when all of it is done. */
  async sendAll(): Promise<void> {
    const keys = new Set([...this.#queued.keys(), ...this.#inFlight.keys()]);
    await Promise.all([...keys].map((k) => this.send(k, false)));
  }
}
