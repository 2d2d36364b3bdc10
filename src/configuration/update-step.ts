import { isTroupeError, TroupeError } from '../domain/errors.js';
import type { StepContext } from '../orchestration/handlers.js';
import type { StoredDoc } from '../storage/store.js';
import { type ConflictEntry, type ConflictStrategy, type MergeRule, resolveConflict } from './conflict.js';
import type { Services } from './services.js';
import { commitWithUndo } from './undo.js';

export interface UpdateStepInput {
  id: string;
  patch: unknown;
  /** The revision the caller read; a different stored revision is a conflict. */
  expectedRevision?: number;
  strategy?: ConflictStrategy;
  rules?: Record<string, MergeRule>;
  defaultRule?: MergeRule;
  /** The state the caller read, for a three-way merge; else taken from the store's backups. */
  base?: Record<string, unknown>;
  file?: string;
}

interface Backups {
  readBackup(kind: 'personalities' | 'roles', id: string, revision: number): Promise<StoredDoc | undefined>;
}
const hasBackups = (x: unknown): x is Backups => typeof (x as Backups).readBackup === 'function';

/**
 * Updates a personality or role. A conflict (stored revision ≠ expected) is rejected, or
 * settled by the chosen strategy with a conflict log; a write that loses a race at commit
 * time is CONCURRENT_MODIFICATION, which the workflow answers by running this step again.
 */
export async function updateWithStrategy(
  s: Services,
  kind: 'personalities' | 'roles',
  i: UpdateStepInput,
  ctx?: StepContext,
) {
  const svc = kind === 'personalities' ? s.personalities : s.roles;
  const current = await svc.require(i.id);
  let patch = i.patch;
  let conflicts: ConflictEntry[] = [];
  const strategy = i.strategy ?? 'reject';
  if (i.expectedRevision != null && i.expectedRevision !== current.revision) {
    if (strategy === 'reject') {
      throw new TroupeError(
        'CONCURRENT_MODIFICATION',
        `${svc.label} "${i.id}" was modified concurrently: expected revision ${i.expectedRevision}, found ${current.revision}`,
        {
          retryable: false,
          context: { kind, id: i.id, expectedRevision: i.expectedRevision, actualRevision: current.revision },
        },
      );
    }
    const base =
      i.base ??
      (hasBackups(s.store)
        ? await s.store.readBackup(kind, i.id, i.expectedRevision).then((d) => d && svc.editable(d as never))
        : undefined);
    const settled = resolveConflict({
      base,
      theirs: svc.editable(current as never),
      patch,
      strategy,
      rules: i.rules,
      defaultRule: i.defaultRule,
    });
    patch = settled.result;
    conflicts = settled.log;
  }
  const { op } = (svc as typeof s.personalities).prepareUpdate(current as never, patch, {
    file: i.file ?? '',
  });
  try {
    return {
      ...(await commitWithUndo(s.store, [op], ctx?.intent)),
      kind,
      id: i.id,
      revision: current.revision + 1,
      conflicts,
    };
  } catch (e) {
    // Lost the race between read and commit: retryable, so the step is run again on fresh state.
    if (isTroupeError(e) && e.code === 'CONCURRENT_MODIFICATION')
      throw new TroupeError(e.code, e.message, {
        cause: e,
        context: e.context,
        retryable: strategy !== 'reject' || i.expectedRevision === undefined,
      });
    throw e;
  }
}
