import { type Command, Option } from 'commander';
import { judgedAgent } from '../../configuration/drift.js';
import { PROVIDERS } from '../../domain/model.js';
import type { CliContext } from '../context.js';
import { addOutputOption, type Format, printListing } from '../listing.js';

interface ListFlags {
  output: Format;
  stale?: boolean;
  personality?: string;
  role?: string;
  model?: string;
  provider?: string;
}

/** `agent list` with kubectl-style filters and output formats. */
export function registerAgentList(noun: Command, ctx: CliContext): void {
  const list = noun
    .command('list')
    .description('list agents with their personality, role, model and sync status; filters combine')
    .option('--stale', 'only agents that are not in sync with what they were composed from')
    .option('--personality <id>', 'only agents using this personality')
    .option('--role <id>', 'only agents playing this role')
    .option('--model <id>', 'only agents on this model (its id, model id or an alias)')
    .addOption(
      new Option('--provider <provider>', 'only agents on this provider’s models').choices(PROVIDERS),
    );
  addOutputOption(list).action(async (opts: ListFlags, cmd: Command) => {
    const out = ctx.output(cmd);
    const { agents, states } = await ctx.withConfig(cmd, async (config) => {
      // A model given by alias or catalog id matches agents that name it any of those ways.
      const model = opts.model === undefined ? undefined : await config.services.models.find(opts.model);
      const names = new Set([opts.model, model?.id, model?.modelId, ...(model?.aliases ?? [])]);
      const chosen = (await config.services.agents.list()).filter(
        (a) =>
          (opts.personality === undefined || a.personalityId === opts.personality) &&
          (opts.role === undefined || a.roleId === opts.role) &&
          (opts.provider === undefined || a.model.provider === opts.provider) &&
          (opts.model === undefined || names.has(a.model.modelId)),
      );
      const states = await config.syncStates(chosen);
      const agents = opts.stale ? chosen.filter((a) => states.get(a.id)?.state !== 'synchronized') : chosen;
      return { agents, states };
    });
    const filtered = Boolean(opts.stale || opts.personality || opts.role || opts.model || opts.provider);
    printListing(out, opts.output, {
      kind: 'agent',
      items: agents,
      id: (a) => a.id,
      data: (a) => judgedAgent(a, states.get(a.id)),
      columns: ['ID', 'NAME', 'REVISION', 'PERSONALITY', 'ROLE', 'MODEL', 'SYNC'],
      row: (a) => [
        a.id,
        a.name,
        String(a.revision),
        a.personalityId,
        a.roleId,
        `${a.model.provider}/${a.model.modelId}`,
        states.get(a.id)?.state ?? a.syncStatus,
      ],
      wide: {
        columns: ['DRIFT', 'CONFIGURATION', 'UPDATED'],
        row: (a) => [states.get(a.id)?.drift.join(',') || '-', a.configurationHash.slice(0, 12), a.updatedAt],
      },
      empty: filtered ? 'No agents match.' : 'No agents yet; create one with `troupe agent create`.',
    });
  });
}
