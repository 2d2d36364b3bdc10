import { notFound } from '../domain/errors.js';
import {
  type Personality,
  PersonalityInput,
  Personality as PersonalitySchema,
} from '../domain/personality.js';
import { suggest } from '../domain/suggest.js';
import type { Store } from '../storage/store.js';
import { loadShipped } from './data.js';
import { EntityService, type Where } from './entity-service.js';
import { mergePatch } from './merge-patch.js';

let presets: PersonalityInput[] | undefined;

/**
 * Personalities: Big Five traits plus behaviours; a dozen presets ship as data. A write through
 * this service changes the personality alone; `ConfigurationService.updatePersonality` also
 * re-composes the agents that use it, in the same commit.
 *
 * @example
 * ```ts
 * const personalities = new PersonalityService(store);
 * const calm = await personalities.createFromPreset('calm-analyst', { bigFive: { openness: 90 } });
 * await personalities.update(calm.id, { behaviors: { humor: 40 } }, { expectedRevision: calm.revision });
 * const all = await personalities.list();
 * ```
 */
export class PersonalityService extends EntityService<Personality> {
  constructor(store: Store) {
    super(store, {
      kind: 'personalities',
      label: 'personality',
      input: PersonalityInput,
      stored: PersonalitySchema,
    });
  }

  /** The shipped archetypes (calm analyst, warm coach, ...), as inputs ready to create. */
  presets(): PersonalityInput[] {
    presets ??= loadShipped<PersonalityInput>('personalities');
    return structuredClone(presets);
  }

  /** Creates a personality from a preset, with overrides merged over it. */
  async createFromPreset(presetId: string, overrides: Record<string, unknown> = {}, where: Where = {}) {
    return this.create(this.fromPresetInput(presetId, overrides), where);
  }

  /**
   * A preset with overrides merged over it as a JSON merge patch: `bigFive: { openness: 90 }`
   * changes one trait and keeps the rest, `null` removes a field. A new name without an id
   * gives a new id (its slug) rather than the preset's.
   */
  fromPresetInput(presetId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const preset: Record<string, unknown> | undefined = this.presets().find((p) => p.id === presetId);
    if (!preset) {
      throw notFoundPreset(
        presetId,
        this.presets().map((p) => p.id!),
      );
    }
    if (overrides.id === undefined && overrides.name !== undefined) delete preset.id;
    return mergePatch(preset, overrides) as Record<string, unknown>;
  }
}

/** A preset not found: the close ones as "did you mean", else every preset there is (a short list). */
const notFoundPreset = (id: string, ids: string[]) => {
  const close = suggest(id, ids);
  const e = notFound('personality preset', id, close);
  if (close.length === 0)
    e.message += `; the presets are ${ids.join(', ')} (see \`troupe personality presets\`)`;
  return e;
};
