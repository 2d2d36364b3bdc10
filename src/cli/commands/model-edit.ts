import { type Command, Option } from 'commander';
import { fromOutside } from '../../configuration/inputs.js';
import type { Model } from '../../domain/model.js';
import { PROVIDERS, SAMPLING_PARAMETERS } from '../../domain/model.js';
import type { CliContext } from '../context.js';
import { assertPatch, inputFrom, whereOf } from '../entities.js';
import { addShowOutputOption, printShown, type ShowFormat } from '../listing.js';
import { collect, defined, expectRevisionOption, fromOption, intArg } from '../options.js';

interface ModelFlags {
  from?: string;
  id?: string;
  provider?: string;
  modelId?: string;
  name?: string;
  alias?: string[];
  contextWindow?: number;
  maxOutput?: number;
  capability?: string[];
  parameters?: string;
  expectRevision?: number;
}

/** `--parameters temperature,topP` or `none`: the sampling parameters the model accepts. */
const parametersOf = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v === 'none'
      ? []
      : v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);

function withFields(cmd: Command, what: 'add' | 'update'): Command {
  if (what === 'add') cmd.option('--id <id>', 'id (a lowercase slug); default: the slug of the name');
  return cmd
    .addOption(new Option('--provider <provider>', 'who serves it').choices(PROVIDERS))
    .option('--model-id <id>', 'the provider’s model id, e.g. gpt-4o-2024-08-06')
    .option('--name <name>', 'display name')
    .option('--alias <name>', 'another name agents may use for it (repeatable; replaces the list)', collect)
    .option('--context-window <tokens>', 'context window in tokens', intArg(1))
    .option('--max-output <tokens>', 'maximum output tokens', intArg(1))
    .option('--capability <name>', 'a capability (repeatable; replaces the list), e.g. code', collect)
    .option(
      '--parameters <list>',
      `sampling parameters it accepts, comma-separated (${SAMPLING_PARAMETERS.join(', ')}), or "none"`,
    );
}

const flagInput = (o: ModelFlags) =>
  defined({
    id: o.id,
    provider: o.provider,
    modelId: o.modelId,
    name: o.name,
    aliases: o.alias,
    contextWindow: o.contextWindow,
    maxOutputTokens: o.maxOutput,
    capabilities: o.capability,
    parameters: parametersOf(o.parameters),
  });

/** One model as a person reads it. */
export function describeCatalogModel(m: Model, source: 'directory' | 'shipped', place: string): string[] {
  return [
    `${m.name} (${m.id}): ${m.provider} ${m.modelId}, ${source === 'shipped' ? 'ships with troupe' : `${place}, revision ${m.revision}`}`,
    `Context window: ${m.contextWindow} tokens${m.maxOutputTokens ? `; at most ${m.maxOutputTokens} out` : ''}`,
    `Capabilities: ${m.capabilities.join(', ') || 'none'}`,
    `Sampling parameters: ${m.parameters === undefined ? 'all' : m.parameters.join(', ') || 'none'}`,
    ...(m.aliases.length ? [`Also known as: ${m.aliases.join(', ')}`] : []),
  ];
}

/** `models add|show|update|remove`: the directory's own catalog entries. */
export function registerModelEdits(noun: Command, ctx: CliContext): void {
  withFields(
    noun
      .command('add')
      .description(
        'add a model to the directory’s catalog (models/<id>.json) from flags, a file, or both (flags win over the file)',
      ),
    'add',
  )
    .addOption(fromOption('the model'))
    .action(async (opts: ModelFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      const input = await inputFrom(ctx, opts.from, flagInput(opts));
      const m = await ctx.withConfig(cmd, (config) =>
        config.createModel(fromOutside(input), whereOf(opts.from)),
      );
      out.data(m);
      out.line(`Added model ${m.id} (${m.provider} ${m.modelId}) → ${ctx.placeOf(cmd, 'models', m.id)}`);
    });

  addShowOutputOption(
    noun.command('show').description('show one model of the catalog (-o json|yaml: the entry)'),
  )
    .argument('<id>', 'model id, provider model id or alias')
    .action(async (id: string, opts: { output: ShowFormat }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { m, own } = await ctx.withConfig(cmd, async (config) => {
        const m = await config.services.models.resolve(id);
        return { m, own: (await config.services.models.get(m.id)) !== undefined };
      });
      printShown(
        out,
        opts.output,
        m,
        describeCatalogModel(m, own ? 'directory' : 'shipped', ctx.placeOf(cmd, 'models', m.id)),
      );
    });

  withFields(
    noun.command('update').description('change a model of the directory; agents on it are re-composed'),
    'update',
  )
    .argument('<id>', 'model id')
    .addOption(fromOption('a JSON merge patch (only the fields given change; null removes)'))
    .addOption(expectRevisionOption())
    .action(async (id: string, opts: ModelFlags, cmd: Command) => {
      const out = ctx.output(cmd);
      const patch = await inputFrom(ctx, opts.from, flagInput(opts));
      assertPatch(patch, 'models', opts.from);
      const r = await ctx.withConfig(cmd, (config) =>
        config.updateModel(id, patch, { expectedRevision: opts.expectRevision, ...whereOf(opts.from) }),
      );
      out.data(r);
      out.line(`Updated model ${id} to revision ${r.model.revision}`);
      if (r.synced.length) out.line(`  re-composed: ${r.synced.join(', ')}`);
    });

  noun
    .command('remove')
    .description('remove a model of the directory; refused while agents use it')
    .argument('<id>', 'model id')
    .addOption(expectRevisionOption())
    .action(async (id: string, opts: { expectRevision?: number }, cmd: Command) => {
      const out = ctx.output(cmd);
      const r = await ctx.withConfig(cmd, (config) =>
        config.deleteModel(
          id,
          defined({ expectedRevision: opts.expectRevision }) as { expectedRevision?: number },
        ),
      );
      out.data(r);
      out.line(`Removed model ${id}`);
    });
}
