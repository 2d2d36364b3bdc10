import { setMaxListeners } from 'node:events';

/** The runs' own controllers fed by one listener on each caller's signal. */
const relays = new WeakMap<AbortSignal, { children: Set<AbortController>; onAbort: () => void }>();

/**
 * A signal of a run's own that aborts (with the same reason) when `parent` does. However many
 * runs share one `parent` (a server's shutdown signal, passed to every run), `parent` gets one
 * listener, so it never raises Node's "possible EventTarget memory leak" warning; the run's
 * own signal takes as many listeners as it has steps at once. `release` when the run ends.
 */
export function linkedSignal(parent: AbortSignal | undefined): {
  signal: AbortSignal | undefined;
  release(): void;
} {
  if (parent === undefined) return { signal: undefined, release: () => {} };
  const child = new AbortController();
  setMaxListeners(0, child.signal);
  if (parent.aborted) {
    child.abort(parent.reason);
    return { signal: child.signal, release: () => {} };
  }
  let relay = relays.get(parent);
  if (relay === undefined) {
    const children = new Set<AbortController>();
    const onAbort = () => {
      relays.delete(parent);
      for (const c of children) c.abort(parent.reason);
    };
    relay = { children, onAbort };
    relays.set(parent, relay);
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const { children, onAbort } = relay;
  children.add(child);
  return {
    signal: child.signal,
    release: () => {
      children.delete(child);
      if (children.size === 0 && relays.get(parent) === relay) {
        relays.delete(parent);
        parent.removeEventListener('abort', onAbort);
      }
    },
  };
}
