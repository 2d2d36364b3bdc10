import { z } from 'zod';
import { EntityId, FreeText, Meta } from './common.js';

export const Capability = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a kebab-case id such as "technical-guidance"');

export const RoleConstraints = z.strictObject({
  tone: z.string().max(200).optional(),
  bannedTopics: z.array(z.string().min(1).max(200)).max(100).optional(),
  maxResponseLength: z.number().int().positive().max(1_000_000).optional(),
  requiredModelCapabilities: z.array(Capability).max(20).optional(),
  minContextWindow: z.number().int().positive().optional(),
});
export type RoleConstraints = z.infer<typeof RoleConstraints>;

/**
 * What a person writes for a custom role: its system prompt, capabilities and constraints. The id
 * may be left out (it becomes the slug of the name).
 *
 * @example
 * ```ts
 * const reviewer = await config.createRole({
 *   name: 'Code Reviewer',
 *   systemPrompt: 'You review pull requests for correctness and clarity.',
 *   capabilities: ['code-review'],
 *   constraints: { tone: 'direct', requiredModelCapabilities: ['code'] },
 * }); // id "code-reviewer"
 * ```
 */
export const RoleInput = z.strictObject({
  $schema: z.string().optional(),
  id: EntityId.optional(),
  name: z.string().trim().min(1).max(100),
  description: FreeText(1000).default(''),
  systemPrompt: FreeText(20_000).min(1),
  capabilities: z.array(Capability).max(50).default([]),
  constraints: RoleConstraints.default({}),
});
export type RoleInput = z.input<typeof RoleInput>;

/**
 * A stored role: a custom one from the store, or one of the shipped library (`predefined: true`),
 * which cannot be updated or deleted.
 *
 * @example
 * ```ts
 * const roles: Role[] = await config.services.roles.list();
 * const custom = roles.filter((r) => !r.predefined);
 * ```
 */
export const Role = RoleInput.omit({ $schema: true })
  .extend({ id: EntityId, predefined: z.boolean().default(false) })
  .extend(Meta.shape);
export type Role = z.infer<typeof Role>;
