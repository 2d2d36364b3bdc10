/** Fetches the values of many keys at once; a key missing from the map has none. */
export type FetchMany<V> = (keys: string[]) => Promise<Map<string, V>>;

/**
 * Lookups by key asked for in one turn of the event loop, fetched together: one call of
 * `fetch` with every distinct key, each caller given its own. A failed fetch fails every
 * lookup in it.
 *
 * @example
 * ```ts
 * const docs = new Coalesced((keys) => selectWhereKeyIn(keys));
 * const [a, b] = await Promise.all([docs.get('agents/a'), docs.get('roles/r')]); // one query
 * ```
 */
export class Coalesced<V> {
  readonly #fetch: FetchMany<V>;
  #waiting: Map<string, { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]> | undefined;

  constructor(fetch: FetchMany<V>) {
    this.#fetch = fetch;
  }

  get(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.#waiting) {
        this.#waiting = new Map();
        setImmediate(() => this.#run());
      }
      const callers = this.#waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.#waiting.set(key, [{ resolve, reject }]);
    });
  }

  #run(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (!waiting) return;
    this.#fetch([...waiting.keys()]).then(
      (found) => {
        for (const [key, callers] of waiting) for (const c of callers) c.resolve(found.get(key));
      },
      (e: unknown) => {
        for (const callers of waiting.values()) for (const c of callers) c.reject(e);
      },
    );
  }
}
