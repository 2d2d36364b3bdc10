import { isTroupeError } from '../../domain/errors.js';
import type { Store } from '../store.js';

/** Adds one to models/counter with compare-and-swap, retrying on conflict; returns the conflicts seen. */
export async function casIncrement(store: Store): Promise<number> {
  let conflicts = 0;
  for (;;) {
    const cur = await store.get('models', 'counter');
    if (!cur) throw new Error('counter missing');
    try {
      await store.put(
        'models',
        { id: 'counter', n: (cur.n as number) + 1 },
        { expectedRevision: cur.revision },
      );
      return conflicts;
    } catch (e) {
      if (!isTroupeError(e) || e.code !== 'CONCURRENT_MODIFICATION') throw e;
      conflicts++;
    }
  }
}
