import type { Command } from 'commander';
import { fromOutside, type MergePatch } from '../../configuration/inputs.js';
import {
  BIG_FIVE_TRAITS,
  DEFAULT_BEHAVIOR,
  type Personality,
  type PersonalityInput,
} from '../../domain/personality.js';
import type { CliContext } from '../context.js';
import { inputFrom, registerUpdateDelete, whereOf } from '../entities.js';
import { indent, table } from '../format.js';
import {
  addOutputOption,
  addShowOutputOption,
  type Format,
  printListing,
  printShown,
  type ShowFormat,
  warnRefused,
} from '../listing.js';
import { addNameOptions, defined, fromOption, type TraitArg, traitArg, traitPatch } from '../options.js';

interface FieldFlags {
  id?: string;
  name?: string;
  description?: string;
  customInstructions?: string;
  trait?: TraitArg[];
}

const TRAIT_HELP = 'set a Big Five trait or a behaviour to an integer 0–100, e.g. openness=80 (repeatable)';

function withFieldOptions(cmd: Command, what: 'create' | 'update'): Command {
  return addNameOptions(cmd, what)
    .option('--custom-instructions <text>', 'extra instructions added to the system prompt')
    .option('--trait <name=value>', TRAIT_HELP, traitArg);
}

const flagPatch = (o: FieldFlags) =>
  defined({
    id: o.id,
    name: o.name,
    description: o.description,
    customInstructions: o.customInstructions,
    ...traitPatch(o.trait),
  });

/** A readable summary of one personality. */
export function describePersonality(p: Personality, place = `personalities/${p.id}.json`): string[] {
  const lines = [`${p.name} (${p.id}), revision ${p.revision}`];
  if (p.description) lines.push(indent(p.description));
  lines.push('Big Five:');
  for (const t of BIG_FIVE_TRAITS) lines.push(`  ${t.padEnd(20)} ${p.bigFive[t]}`);
  const behaviors = Object.entries(p.behaviors).filter(([, v]) => v !== undefined);
  lines.push(`Behaviours (others ${DEFAULT_BEHAVIOR}):${behaviors.length ? '' : ' none set'}`);
  for (const [k, v] of behaviors) lines.push(`  ${k.padEnd(20)} ${v}`);
  if (p.customInstructions) lines.push('Custom instructions:', indent(p.customInstructions));
  lines.push(`Updated ${p.updatedAt}; ${place.endsWith('.json') ? 'file ' : ''}${place}`);
  return lines;
}

export function register(program: Command, ctx: CliContext): void {
  const noun = program
    .command('personality')
    .description('create, list, show, update and delete personalities (Big Five traits and behaviours)');

  withFieldOptions(
    noun
      .command('create')
      .description('create a personality from flags, a file, a preset, or a mix (flags win over the file)')
      .addOption(fromOption('the personality'))
      .option('--preset <id>', 'start from a shipped preset (see `troupe personality presets`)'),
    'create',
  ).action(async (opts: FieldFlags & { from?: string; preset?: string }, cmd: Command) => {
    const out = ctx.output(cmd);
    const created = await ctx.withConfig(cmd, async (config) => {
      const input = await inputFrom(ctx, opts.from, flagPatch(opts));
      const where = whereOf(opts.from);
      return opts.preset
        ? config.createPersonality(fromOutside<MergePatch<PersonalityInput>>(input), {
            ...where,
            preset: opts.preset,
          })
        : config.createPersonality(fromOutside(input), where);
    });
    out.data(created);
    out.line(
      `Created personality ${created.id} (${created.name}) → ${ctx.placeOf(cmd, 'personalities', created.id)}`,
    );
  });

  addOutputOption(noun.command('list').description('list personalities')).action(
    async (opts: { output: Format }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { entities: all, refused } = await ctx.withConfig(cmd, (config) =>
        config.services.personalities.readable(),
      );
      warnRefused(ctx, refused);
      printListing(out, opts.output, {
        kind: 'personality',
        items: all,
        id: (p) => p.id,
        columns: ['ID', 'NAME', 'REVISION'],
        row: (p) => [p.id, p.name, String(p.revision)],
        wide: { columns: ['UPDATED', 'DESCRIPTION'], row: (p) => [p.updatedAt, p.description ?? ''] },
        empty: 'No personalities yet; create one with `troupe personality create`.',
      });
    },
  );

  addShowOutputOption(
    noun.command('show').description('show one personality (-o json|yaml: the stored document)'),
  )
    .argument('<id>', 'personality id')
    .action(async (id: string, opts: { output: ShowFormat }, cmd: Command) => {
      const out = ctx.output(cmd);
      const p = await ctx.withConfig(cmd, (config) => config.services.personalities.require(id));
      printShown(out, opts.output, p, describePersonality(p, ctx.placeOf(cmd, 'personalities', p.id)));
    });

  registerUpdateDelete<FieldFlags>(noun, ctx, {
    kind: 'personality',
    updateDescription: 'change fields of a personality; agents using it are re-composed or marked stale',
    deleteDescription: 'delete a personality; refused while agents use it unless --cascade or --reassign',
    withFieldOptions,
    flagPatch,
  });

  noun
    .command('presets')
    .description('list the shipped personality presets (use with `create --preset ID`)')
    .action(async (_opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const presets = await ctx.presets();
      out.data(presets);
      out.lines(
        table(
          ['ID', 'NAME', 'DESCRIPTION'],
          presets.map((p) => [p.id ?? '', p.name, p.description ?? '']),
        ),
      );
    });
}
