import { type Command, Option } from 'commander';
import type { SyncState } from '../../configuration/drift.js';
import { fromOutside } from '../../configuration/inputs.js';
import type { Agent, ModelSettings } from '../../domain/agent.js';
import { PROVIDERS } from '../../domain/model.js';
import { type ResolvedConfiguration, resolveConfiguration } from '../../domain/resolved.js';
import { entityFile } from '../../services/entity-service.js';
import { mergePatch } from '../../services/merge-patch.js';
import type { CliContext } from '../context.js';
import { assertPatch, inputFrom, whereOf } from '../entities.js';
import { indent } from '../format.js';
import { addShowOutputOption, printShown, type ShowFormat } from '../listing.js';
import { addNameOptions, defined, expectRevisionOption, fromOption, intArg, numberArg } from '../options.js';
import { EXIT } from '../output.js';
import { registerAgentList } from './agent-list.js';

interface FieldFlags {
  id?: string;
  name?: string;
  description?: string;
  personality?: string;
  role?: string;
  provider?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  apiKeyEnv?: string;
  instructions?: string;
}

function withFieldOptions(cmd: Command, what: 'create' | 'update'): Command {
  return addNameOptions(cmd, what)
    .option('--personality <id>', 'the personality it uses')
    .option('--role <id>', 'the role it plays')
    .addOption(
      new Option('--provider <provider>', 'model provider (default: found from --model)').choices(PROVIDERS),
    )
    .option(
      '--model <model>',
      'model id or short name, e.g. gpt-4o or claude-sonnet-4 (see `troupe models list`)',
    )
    .option('--temperature <n>', 'sampling temperature, 0–2', numberArg)
    .option('--max-tokens <n>', 'maximum output tokens', intArg(1))
    .option(
      '--api-key-env <NAME>',
      'the NAME of the environment variable holding the API key (never the key)',
    )
    .option('--instructions <text>', 'agent-specific instructions added to the system prompt');
}

function flagPatch(o: FieldFlags): Record<string, unknown> {
  const model = defined({
    provider: o.provider,
    modelId: o.model,
    temperature: o.temperature,
    maxTokens: o.maxTokens,
    apiKeyEnv: o.apiKeyEnv,
  });
  return defined({
    id: o.id,
    name: o.name,
    description: o.description,
    personalityId: o.personality,
    roleId: o.role,
    instructions: o.instructions,
    model: Object.keys(model).length ? model : undefined,
  });
}

export function describeModel(m: ModelSettings): string {
  return [
    `${m.provider} ${m.modelId}`,
    m.temperature !== undefined ? `temperature ${m.temperature}` : '',
    m.maxTokens !== undefined ? `max tokens ${m.maxTokens}` : '',
    m.topP !== undefined ? `top-p ${m.topP}` : '',
    m.apiKeyEnv ? `API key from $${m.apiKeyEnv}` : 'no API key variable set',
  ]
    .filter(Boolean)
    .join(', ');
}

/** A readable summary of one agent. */
export function describeAgent(
  a: Agent,
  sync: SyncState,
  /** Where a kind's entity of this id lives (a file, or a row of a database). */
  place: (kind: 'agents' | 'resolved') => string = (kind) => `${kind}/${a.id}.json`,
): string[] {
  const lines = [`${a.name} (${a.id}), revision ${a.revision}, ${sync}`];
  if (a.description) lines.push(indent(a.description));
  lines.push(
    `Personality: ${a.personalityId} (composed at revision ${a.personalityVersion})`,
    `Role:        ${a.roleId} (composed at revision ${a.roleVersion})`,
    `Model:       ${describeModel(a.model)}`,
  );
  if (a.instructions) lines.push('Instructions:', indent(a.instructions));
  lines.push(
    `Configuration hash ${a.configurationHash.slice(0, 12)}…; stored as ${place('agents')}, ${place('resolved')}`,
  );
  if (sync === 'stale')
    lines.push('Its personality or role changed since it was composed: run `troupe reconcile`.');
  return lines;
}

export function describeResolved(c: ResolvedConfiguration, note?: string): string[] {
  const model = Object.entries(c.model).filter(([, v]) => v !== undefined);
  return [
    `Resolved configuration of agent ${c.agentId} (${c.agentName})`,
    `  personality ${c.personality.id} revision ${c.personality.revision}, role ${c.role.id} revision ${c.role.revision}`,
    ...(note ? [`  ${note}`] : []),
    'Model settings:',
    ...model.map(([k, v]) => `  ${k.padEnd(16)} ${Array.isArray(v) ? v.join(', ') : String(v)}`),
    'System prompt:',
    indent(c.systemPrompt),
  ];
}

export function register(program: Command, ctx: CliContext): void {
  const noun = program.command('agent').description('create, list, show, update and delete agents');

  withFieldOptions(
    noun
      .command('create')
      .description(
        'create an agent; the --from file may also hold a new `personality` and `role` object, all created in one commit',
      )
      .addOption(fromOption('the agent')),
    'create',
  ).action(async (opts: FieldFlags & { from?: string }, cmd: Command) => {
    const out = ctx.output(cmd);
    const result = await ctx.withConfig(cmd, async (config) => {
      const file: Record<string, unknown> = opts.from ? await ctx.readObject(opts.from) : {};
      const { personality, role, ...fromFile } = file;
      const agent = mergePatch(fromFile, flagPatch(opts)) as Record<string, unknown>;
      return config.createAgent({
        agent: fromOutside(agent),
        ...(personality !== undefined ? { personality: fromOutside(personality) } : {}),
        ...(role !== undefined ? { role: fromOutside(role) } : {}),
        where: whereOf(opts.from),
      });
    });
    out.data(result);
    const a = result.agent;
    out.line(
      `Created agent ${a.id} (${a.name}): personality ${a.personalityId}, role ${a.roleId}, ${describeModel(a.model)}`,
    );
    out.line(
      `  wrote ${result.created.map((c) => ctx.placeOf(cmd, ...(c.split('/') as [string, string]))).join(', ')}`,
    );
  });

  registerAgentList(noun, ctx);

  addShowOutputOption(
    noun
      .command('show')
      .description(
        'show one agent (-o json|yaml: the stored document); --resolved: its system prompt and model settings',
      ),
  )
    .argument('<id>', 'agent id')
    .option('--resolved', 'print the resolved configuration an application hands to the model')
    .action(async (id: string, opts: { resolved?: boolean; output: ShowFormat }, cmd: Command) => {
      const out = ctx.output(cmd);
      await ctx.withConfig(cmd, async (config) => {
        const s = config.services;
        const agent = await s.agents.require(id);
        const judged = (await config.syncStates([agent])).get(id);
        const sync = judged?.state ?? agent.syncStatus;
        if (!opts.resolved)
          // As data, the stored document with its sync state judged now (as `agent list` says
          // it), and nothing more: what is shown is taken back by `update --from`.
          return printShown(
            out,
            opts.output,
            { ...agent, syncStatus: sync },
            describeAgent(agent, sync, (kind) => ctx.placeOf(cmd, kind, agent.id)),
          );
        const file = await s.files.get(id);
        let configuration = file?.configuration;
        let note: string | undefined;
        const mismatch = file && s.files.check(agent, file);
        if (!configuration) {
          const [p, r, m] = [
            await s.personalities.require(agent.personalityId),
            await s.roles.require(agent.roleId),
            await s.models.find(agent.model.modelId, agent.model.provider),
          ];
          configuration = resolveConfiguration(agent, p, r, m);
          note = `${entityFile('resolved', id, s.store)} is missing; composed now (run \`troupe reconcile\` to write it)`;
        } else if (mismatch) {
          // Not what was composed for this agent (edited by hand, or for another revision of it):
          // not to be handed to a model as its configuration; validate fails on it too.
          note = `${mismatch.message}; this is not the configuration composed for it (run \`troupe reconcile\` to write it again)`;
          ctx.exitCode = EXIT.failed;
        } else if (sync === 'stale') {
          note = `stale: ${judged?.drift.join('; ')}; run \`troupe reconcile\` to re-compose`;
        } else if (sync === 'broken') {
          note = `broken: ${judged?.drift[0] ?? `its personality "${agent.personalityId}", role "${agent.roleId}" or model "${agent.model.modelId}" cannot be read`}; this is the configuration last composed, from what is gone or refused (run \`troupe validate\`)`;
          // Not to be handed to a model as if it were current: the command fails, as validate does.
          ctx.exitCode = EXIT.failed;
        }
        printShown(out, opts.output, configuration, describeResolved(configuration, note));
        // Printed as data (JSON, YAML), the configuration carries no note: it goes to stderr.
        if (note && (out.json || opts.output !== 'text')) ctx.warn(`agent "${id}": ${note}`);
      });
    });

  withFieldOptions(
    noun
      .command('update')
      .description('change fields of an agent; it is re-composed against its personality and role')
      .argument('<id>', 'agent id')
      .addOption(fromOption('a JSON merge patch (only the fields given change; null removes)'))
      .addOption(expectRevisionOption()),
    'update',
  ).action(
    async (id: string, opts: FieldFlags & { from?: string; expectRevision?: number }, cmd: Command) => {
      const out = ctx.output(cmd);
      const patch = await inputFrom(ctx, opts.from, flagPatch(opts));
      assertPatch(patch, 'agent', opts.from);
      const { agent, unchanged } = await ctx.withConfig(cmd, async (config) => {
        return config.updateAgent(id, patch, {
          expectedRevision: opts.expectRevision,
          ...whereOf(opts.from),
        });
      });
      out.data(agent);
      out.line(
        unchanged
          ? `agent ${id} unchanged at revision ${agent.revision}: nothing to write`
          : `Updated agent ${id} to revision ${agent.revision}: ${describeModel(agent.model)}`,
      );
    },
  );

  noun
    .command('delete')
    .description('delete an agent and its resolved configuration')
    .argument('<id>', 'agent id')
    .addOption(expectRevisionOption())
    .action(async (id: string, opts: { expectRevision?: number }, cmd: Command) => {
      const out = ctx.output(cmd);
      const r = await ctx.withConfig(cmd, (config) =>
        config.deleteAgent(id, { expectedRevision: opts.expectRevision }),
      );
      out.data(r);
      out.line(`Deleted agent ${id}`);
    });
}
