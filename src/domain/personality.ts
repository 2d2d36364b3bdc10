import { z } from 'zod';
import { EntityId, FreeText, Meta, Score } from './common.js';

/**
 * The Big Five traits; a personality's `bigFive` gives each an integer score 0–100.
 *
 * @example
 * ```ts
 * const calm = await config.services.personalities.require('calm-analyst');
 * for (const trait of BIG_FIVE_TRAITS) console.log(`${trait}: ${calm.bigFive[trait]}`);
 * ```
 */
export const BIG_FIVE_TRAITS = [
  'openness',
  'conscientiousness',
  'extraversion',
  'agreeableness',
  'neuroticism',
] as const;
/**
 * The behaviours a personality may set in `behaviors`, each an integer 0–100; one left out
 * counts as DEFAULT_BEHAVIOR (50).
 *
 * @example
 * ```ts
 * const calm = await config.services.personalities.require('calm-analyst');
 * const set = BEHAVIOR_TRAITS.filter((t) => calm.behaviors[t] !== undefined);
 * ```
 */
export const BEHAVIOR_TRAITS = [
  'formality',
  'assertiveness',
  'brevity',
  'storytelling',
  'metaphorical',
  'analyticalDepth',
  'imagination',
  'detailOrientation',
  'exampleUsage',
  'pedagogical',
  'empathy',
  'encouragement',
  'patience',
  'personalness',
  'humor',
  'playfulness',
  'curiosity',
  'proactiveness',
  'riskTaking',
  'responseLength',
  'randomness',
  'focus',
] as const;
export type BigFiveTrait = (typeof BIG_FIVE_TRAITS)[number];
export type BehaviorTrait = (typeof BEHAVIOR_TRAITS)[number];
export const DEFAULT_BEHAVIOR = 50;

export const BigFive = z.strictObject(
  Object.fromEntries(BIG_FIVE_TRAITS.map((t) => [t, Score])) as Record<BigFiveTrait, typeof Score>,
);
export type BigFive = z.infer<typeof BigFive>;

/** Each behaviour is optional; an absent one means DEFAULT_BEHAVIOR. */
export const Behaviors = z.strictObject(
  Object.fromEntries(BEHAVIOR_TRAITS.map((t) => [t, Score.optional()])) as Record<
    BehaviorTrait,
    z.ZodOptional<typeof Score>
  >,
);
export type Behaviors = z.infer<typeof Behaviors>;

export const MAX_CUSTOM_INSTRUCTIONS = 4000;

/**
 * What a person writes: the id may be left out (it becomes the slug of the name). All five Big
 * Five traits are required; behaviours are optional.
 *
 * @example
 * ```ts
 * const input: PersonalityInput = {
 *   name: 'Calm Analyst',
 *   bigFive: { openness: 70, conscientiousness: 85, extraversion: 30, agreeableness: 60, neuroticism: 15 },
 *   behaviors: { brevity: 70 },
 * };
 * const calm = await config.createPersonality(input); // id "calm-analyst"
 * ```
 */
export const PersonalityInput = z.strictObject({
  $schema: z.string().optional(),
  id: EntityId.optional(),
  name: z.string().trim().min(1).max(100),
  description: FreeText(1000).optional(),
  bigFive: BigFive,
  behaviors: Behaviors.default({}),
  customInstructions: FreeText(MAX_CUSTOM_INSTRUCTIONS).optional(),
});
export type PersonalityInput = z.input<typeof PersonalityInput>;

/**
 * A stored personality: the input with its id fixed and the store's metadata.
 *
 * @example
 * ```ts
 * const calm: Personality = await config.services.personalities.require('calm-analyst');
 * console.log(calm.revision, calm.bigFive.openness, calm.updatedAt);
 * ```
 */
export const Personality = PersonalityInput.omit({ $schema: true })
  .extend({ id: EntityId })
  .extend(Meta.shape);
export type Personality = z.infer<typeof Personality>;

/** Behaviours with defaults filled in: what composition uses. */
export function effectiveBehaviors(p: Pick<Personality, 'behaviors'>): Record<BehaviorTrait, number> {
  return Object.fromEntries(BEHAVIOR_TRAITS.map((t) => [t, p.behaviors[t] ?? DEFAULT_BEHAVIOR])) as Record<
    BehaviorTrait,
    number
  >;
}
