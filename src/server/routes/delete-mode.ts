import type { DeleteMode } from '../../configuration/delete.js';
import { TroupeError } from '../../domain/errors.js';
import type { Request } from '../route.js';

/** `?mode=block|cascade|reassign&to=ID`: what happens to the agents that use what is deleted. */
export function deleteModeOf(req: Request): DeleteMode {
  const mode = req.query('mode') ?? 'block';
  if (mode === 'block' || mode === 'cascade') {
    // Said for a reassign, never ignored: a cascade sent with it would delete what was to move.
    if (req.query('to') !== undefined)
      throw new TroupeError('USAGE', `to= is for mode=reassign, not mode=${mode}: give one of them`, {
        context: { field: 'to' },
      });
    return { mode };
  }
  if (mode === 'reassign') {
    const to = req.query('to');
    if (!to)
      throw new TroupeError('USAGE', 'mode=reassign needs to=<id> (what the agents move to)', {
        context: { field: 'to' },
      });
    return { mode, to };
  }
  throw new TroupeError('USAGE', `mode must be block, cascade or reassign, got "${mode}"`, {
    context: { field: 'mode' },
  });
}

export const DELETE_QUERY = {
  mode: 'block (default: refused while agents use it), cascade (delete them too) or reassign',
  to: 'with mode=reassign: the id the agents move to',
};
