import type { Command } from 'commander';
import type { Role } from '../../domain/role.js';
import type { CliContext } from '../context.js';
import { inputFrom, registerUpdateDelete, whereOf } from '../entities.js';
import { indent } from '../format.js';
import {
  addOutputOption,
  addShowOutputOption,
  type Format,
  printListing,
  printShown,
  type ShowFormat,
  warnRefused,
} from '../listing.js';
import { addNameOptions, collect, defined, fromOption } from '../options.js';

interface FieldFlags {
  id?: string;
  name?: string;
  description?: string;
  systemPrompt?: string;
  capability?: string[];
}

function withFieldOptions(cmd: Command, what: 'create' | 'update'): Command {
  return addNameOptions(cmd, what)
    .option('--system-prompt <text>', 'the role’s instructions to the model')
    .option(
      '--capability <id>',
      'a kebab-case capability such as technical-guidance (repeatable; replaces the list)',
      collect,
    );
}

const flagPatch = (o: FieldFlags) =>
  defined({
    id: o.id,
    name: o.name,
    description: o.description,
    systemPrompt: o.systemPrompt,
    capabilities: o.capability,
  });

/** A readable summary of one role. */
export function describeRole(r: Role, place = `roles/${r.id}.json`): string[] {
  const lines = [
    `${r.name} (${r.id}), ${r.predefined ? 'predefined (read-only)' : `revision ${r.revision}`}`,
  ];
  if (r.description) lines.push(indent(r.description));
  lines.push(`Capabilities: ${r.capabilities.join(', ') || 'none'}`);
  const c = r.constraints;
  const constraints = [
    c.tone ? `tone: ${c.tone}` : '',
    c.bannedTopics?.length ? `banned topics: ${c.bannedTopics.join(', ')}` : '',
    c.maxResponseLength ? `max response length: ${c.maxResponseLength}` : '',
    c.requiredModelCapabilities?.length
      ? `needs a model with: ${c.requiredModelCapabilities.join(', ')}`
      : '',
    c.minContextWindow ? `min context window: ${c.minContextWindow}` : '',
  ].filter(Boolean);
  if (constraints.length) lines.push('Constraints:', ...constraints.map((x) => `  ${x}`));
  lines.push('System prompt:', indent(r.systemPrompt));
  if (!r.predefined) lines.push(`Updated ${r.updatedAt}; ${place.endsWith('.json') ? 'file ' : ''}${place}`);
  return lines;
}

export function register(program: Command, ctx: CliContext): void {
  const noun = program
    .command('role')
    .description('create, list, show, update and delete roles (predefined roles are read-only templates)');

  withFieldOptions(
    noun
      .command('create')
      .description('create a custom role from flags, a file, a template, or a mix (flags win over the file)')
      .addOption(fromOption('the role'))
      .option('--from-template <id>', 'start from an existing role, e.g. a predefined one such as analyst'),
    'create',
  ).action(async (opts: FieldFlags & { from?: string; fromTemplate?: string }, cmd: Command) => {
    const out = ctx.output(cmd);
    const role = await ctx.withConfig(cmd, async (config) => {
      const input = await inputFrom(ctx, opts.from, flagPatch(opts));
      return config.createRole(input, {
        ...whereOf(opts.from),
        ...(opts.fromTemplate ? { template: opts.fromTemplate } : {}),
      });
    });
    out.data(role);
    out.line(
      `Created role ${role.id} (${role.name})${opts.fromTemplate ? ` from ${opts.fromTemplate}` : ''} → ${ctx.placeOf(cmd, 'roles', role.id)}`,
    );
  });

  addOutputOption(noun.command('list').description('list roles, predefined and custom')).action(
    async (opts: { output: Format }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { entities: all, refused } = await ctx.withConfig(cmd, (config) =>
        config.services.roles.readable(),
      );
      warnRefused(ctx, refused);
      printListing(out, opts.output, {
        kind: 'role',
        items: all,
        id: (r) => r.id,
        columns: ['ID', 'NAME', 'REVISION', 'KIND'],
        row: (r) => [
          r.id,
          r.name,
          r.predefined ? '-' : String(r.revision),
          r.predefined ? 'predefined' : 'custom',
        ],
        wide: {
          columns: ['CAPABILITIES', 'DESCRIPTION'],
          row: (r) => [r.capabilities.join(',') || '-', r.description ?? ''],
        },
      });
    },
  );

  addShowOutputOption(noun.command('show').description('show one role (-o json|yaml: the stored document)'))
    .argument('<id>', 'role id')
    .action(async (id: string, opts: { output: ShowFormat }, cmd: Command) => {
      const out = ctx.output(cmd);
      const r = await ctx.withConfig(cmd, (config) => config.services.roles.require(id));
      printShown(out, opts.output, r, describeRole(r, ctx.placeOf(cmd, 'roles', r.id)));
    });

  registerUpdateDelete<FieldFlags>(noun, ctx, {
    kind: 'role',
    updateDescription: 'change fields of a custom role; agents using it are re-composed',
    deleteDescription: 'delete a custom role; refused while agents use it unless --cascade or --reassign',
    withFieldOptions,
    flagPatch,
  });
}
