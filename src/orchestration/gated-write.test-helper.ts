import type { Store } from '../storage/store.js';
import { workflow } from './builder.js';

/**
 * A one-step workflow whose step, once reached, waits at a gate the test opens, then commits
 * personality `id` to `store` with the step's fence: a holder that goes on after another took
 * its run over.
 */
export function gatedWrite(store: () => Store, id: string) {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let reached: () => void = () => {};
  const waiting = new Promise<void>((r) => {
    reached = r;
  });
  const services = {
    s: {
      write: async (_: unknown, ctx: { fence?: { runId: string; epoch: number } }) => {
        reached();
        await gate;
        const { results } = await store().commit([{ op: 'put', kind: 'personalities', doc: { id } }], {
          fence: ctx.fence,
        });
        return results.length;
      },
    },
  };
  return { open: () => open(), waiting, services, def: workflow('w').step('write', 's', 'write').build() };
}
