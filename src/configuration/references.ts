import { isTroupeError, TroupeError } from '../domain/errors.js';
import type { EntityReader } from '../services/entity-service.js';

/** Fetches a referenced entity; a missing one is NOT_FOUND naming the referring field. */
export async function requireRef<E extends { id: string; revision: number }>(
  reader: EntityReader<E>,
  id: string,
  from: { entity: string; field: string; file?: string | undefined },
): Promise<E> {
  try {
    return await reader.require(id);
  } catch (e) {
    if (!isTroupeError(e) || e.code !== 'NOT_FOUND') throw e;
    const where = `${from.file ? `${from.file}: ` : ''}${from.entity}: ${from.field}`;
    throw new TroupeError('NOT_FOUND', `${where}: ${e.message}`, {
      cause: e,
      context: { ...e.context, field: from.field, entity: from.entity },
      issues: [
        {
          path: from.field,
          entity: from.entity,
          message: e.message,
          ...(from.file ? { file: from.file } : {}),
        },
      ],
    });
  }
}
