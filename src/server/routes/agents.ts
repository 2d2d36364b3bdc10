import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { Agent, AgentInput } from '../../domain/agent.js';
import { TroupeError } from '../../domain/errors.js';
import { entityRoutes } from '../entity-routes.js';
import type { Route } from '../route.js';

/** /agents, their resolved configurations, and which are stale (their sources moved on). */
export const agentRoutes = (config: ConfigurationService): Route[] => [
  ...entityRoutes(
    {
      noun: 'agents',
      one: 'agent',
      entity: Agent,
      input: AgentInput,
      reads: (c) => c.services.agents,
      create: async (c, body, req) =>
        (await c.createAgent({ agent: fromOutside(body), signal: req.signal })).agent,
      update: async (c, id, patch, expectedRevision, req) =>
        (await c.updateAgent(id, fromOutside(patch), { expectedRevision, signal: req.signal })).agent,
      remove: (c, id, expectedRevision, req) => c.deleteAgent(id, { expectedRevision, signal: req.signal }),
      // Each with its sync state judged now: one whose personality was edited by hand reads as
      // stale, as `agent list` shows it; what drifted is at /states. The body stays a document
      // a client can send back as a patch, and the ETag still names the stored one.
      shown: async (c, stored) => {
        const states = await c.syncStates(stored as Agent[]);
        const bodies = stored.map((a) => ({
          ...a,
          syncStatus: states.get(a.id)?.state ?? (a as Agent).syncStatus,
        }));
        return { bodies, headers: (i) => ({ 'Troupe-Sync-Status': bodies[i]!.syncStatus }) };
      },
    },
    config,
  ),
  {
    method: 'get',
    path: '/agents/{id}/resolved',
    summary: 'The resolved configuration of an agent: what it runs with',
    tag: 'agents',
    scope: 'read',
    revisioned: true,
    handle: async (req) => {
      const id = req.params.id as string;
      const s = config.services;
      const resolved = await s.files.get(id);
      if (!resolved)
        throw new TroupeError('NOT_FOUND', `agent "${id}" has no resolved configuration`, {
          context: { kind: 'resolved', id },
        });
      // Not to be handed to a model as current when it is not what was composed for the agent
      // (edited by hand) or what it is composed from cannot be read: refused, as the CLI's
      // `agent show --resolved` fails. Stale (its sources moved on) is said in a header.
      const agent = await s.agents.get(id);
      const mismatch = agent ? s.files.check(agent, resolved) : undefined;
      const judged = agent ? (await config.syncStates([agent])).get(id) : undefined;
      const refusal = mismatch
        ? `${mismatch.message}; it is not the configuration composed for agent "${id}" (reconcile writes it again)`
        : judged?.state === 'broken'
          ? `agent "${id}" is broken: ${judged.drift[0]}; this is the configuration last composed, from what is gone or refused (validate lists it)`
          : undefined;
      if (refusal) throw new TroupeError('VALIDATION_FAILED', refusal, { context: { kind: 'resolved', id } });
      return {
        body: resolved,
        revision: (resolved as { revision?: number }).revision,
        headers: judged ? { 'Troupe-Sync-Status': judged.state } : undefined,
      };
    },
  },
  {
    method: 'get',
    path: '/states',
    summary: "Each agent's sync state: stale when a personality, role or model it uses moved on",
    tag: 'agents',
    scope: 'read',
    handle: async () => ({
      body: [...(await config.syncStates()).entries()].map(([agentId, s]) => ({ agentId, ...s })),
    }),
  },
];
