import type { Command } from 'commander';
import type { ConfigurationService } from '../configuration/configuration-service.js';
import type { DeleteMode } from '../configuration/delete.js';
import { TroupeError } from '../domain/errors.js';
import { mergePatch } from '../services/merge-patch.js';
import {
  addConflictOptions,
  type ConflictFlags,
  conflictOptions,
  describeConflicts,
} from './conflict-options.js';
import type { CliContext } from './context.js';
import { plural } from './format.js';
import { addDeleteModeOptions, expectRevisionOption, fromOption } from './options.js';
import type { Output } from './output.js';

/** `{ file }` when the input came from a file, for messages; `{}` otherwise. */
export const whereOf = (file: string | undefined): { file?: string } => (file ? { file } : {});

/** File fields first, flags over them (flags never remove a field). */
export async function inputFrom(
  ctx: CliContext,
  file: string | undefined,
  flags: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const base = file ? await ctx.readObject(file) : {};
  return mergePatch(base, flags) as Record<string, unknown>;
}

/** An update needs something to change; an empty one is a usage error (naming the empty --from file). */
export function assertPatch(patch: Record<string, unknown>, label: string, from?: string): void {
  if (Object.keys(patch).length === 0) {
    throw new TroupeError(
      'USAGE',
      from === undefined
        ? `nothing to update: give --from FILE (a JSON merge patch) or a field option; see \`troupe ${label} update --help\``
        : `nothing to update: ${from} is an empty patch ({}); name in it the fields to change (null removes one), or give a field option`,
      from === undefined ? {} : { issues: [{ file: from, path: '(root)', message: 'is an empty patch' }] },
    );
  }
}

export interface DeleteFlags {
  cascade?: boolean;
  reassign?: string;
  expectRevision?: number;
}

export const deleteModeOf = (opts: DeleteFlags): DeleteMode =>
  opts.reassign !== undefined
    ? { mode: 'reassign', to: opts.reassign }
    : { mode: opts.cascade ? 'cascade' : 'block' };

/** `troupe personality|role delete ID [--cascade | --reassign ID]`, shared by both nouns. */
export async function deleteReferenced(
  ctx: CliContext,
  cmd: Command,
  kind: 'personality' | 'role',
  id: string,
  opts: DeleteFlags,
): Promise<void> {
  const out = ctx.output(cmd);
  const how = deleteModeOf(opts);
  const result = await ctx.withConfig(cmd, (config: ConfigurationService) =>
    kind === 'personality'
      ? config.deletePersonality(id, how, { expectedRevision: opts.expectRevision })
      : config.deleteRole(id, how, { expectedRevision: opts.expectRevision }),
  );
  out.data(result);
  out.line(`Deleted ${kind} ${id}`);
  if (result.agentsDeleted.length) {
    out.line(
      `  and ${plural(result.agentsDeleted.length, 'agent')} that used it: ${result.agentsDeleted.join(', ')}`,
    );
  }
  if (result.agentsReassigned.length) {
    out.line(
      `  ${plural(result.agentsReassigned.length, 'agent')} moved to ${kind} ${opts.reassign}: ${result.agentsReassigned.join(', ')}`,
    );
  }
}

/**
 * After a personality or role update: the agents the same commit re-composed. Reported from
 * what the command wrote, never from a later read (another writer may have changed them since).
 */
function reportDependents(out: Output, kind: 'personality' | 'role', synced: string[]): void {
  if (synced.length)
    out.line(`  re-composed ${plural(synced.length, 'agent')} using this ${kind}: ${synced.join(', ')}`);
}

/** How `personality` and `role` differ in their `update` and `delete` subcommands. */
export interface ReferencedCommands<Flags> {
  kind: 'personality' | 'role';
  updateDescription: string;
  deleteDescription: string;
  /** Adds the noun's field options (`--name`, …) to `update`. */
  withFieldOptions: (cmd: Command, what: 'update') => Command;
  /** The merge patch the field options ask for. */
  flagPatch: (opts: Flags) => Record<string, unknown>;
}

/** `troupe personality|role update ID` and `delete ID`, shared by both nouns. */
export function registerUpdateDelete<Flags extends object>(
  noun: Command,
  ctx: CliContext,
  spec: ReferencedCommands<Flags>,
): void {
  const { kind } = spec;
  spec
    .withFieldOptions(
      addConflictOptions(
        noun
          .command('update')
          .description(spec.updateDescription)
          .argument('<id>', `${kind} id`)
          .addOption(fromOption('a JSON merge patch (only the fields given change; null removes)'))
          .addOption(expectRevisionOption()),
      ),
      'update',
    )
    .action(async (id: string, opts: Flags & ConflictFlags & { from?: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const onConflict = conflictOptions(opts);
      const patch = await inputFrom(ctx, opts.from, spec.flagPatch(opts));
      assertPatch(patch, kind, opts.from);
      await ctx.withConfig(cmd, async (config) => {
        const options = { expectedRevision: opts.expectRevision, ...onConflict, ...whereOf(opts.from) };
        const r =
          kind === 'personality'
            ? await config.updatePersonality(id, patch, options)
            : await config.updateRole(id, patch, options);
        const entity = 'personality' in r ? r.personality : r.role;
        out.line(
          r.unchanged
            ? `${kind} ${id} unchanged at revision ${entity.revision}: nothing to write`
            : `Updated ${kind} ${id} to revision ${entity.revision}`,
        );
        out.lines(describeConflicts(r.conflicts));
        reportDependents(out, kind, r.synced);
        out.data({
          [kind]: entity,
          revision: entity.revision,
          unchanged: r.unchanged,
          agents: r.synced,
          stale: [],
          conflicts: r.conflicts,
        });
      });
    });

  addDeleteModeOptions(
    noun
      .command('delete')
      .description(spec.deleteDescription)
      .argument('<id>', `${kind} id`)
      .addOption(expectRevisionOption()),
    kind,
  ).action((id: string, opts: DeleteFlags, cmd: Command) => deleteReferenced(ctx, cmd, kind, id, opts));
}
