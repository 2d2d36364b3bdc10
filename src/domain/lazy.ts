import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A package loaded on first use, synchronously: for one whose loading costs start-up time
 * (string-width compiles Unicode property regexes, transliterate builds its tables, yaml is
 * 100 modules) and that most commands never reach. ESM packages load through require(esm)
 * (Node ≥ 20.19).
 */
export function lazyModule<T>(name: string): () => T {
  let value: T | undefined;
  return () => {
    value ??= load(name) as T;
    return value;
  };
}

/** The default export of a package loaded on first use (see lazyModule). */
export function lazyDefault<T>(name: string): () => T {
  const mod = lazyModule<{ default: T }>(name);
  return () => mod().default;
}
