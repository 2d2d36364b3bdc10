import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { TroupeError } from '../../domain/errors.js';
import type { RunSummary } from '../../orchestration/run-log.js';
import type { Route } from '../route.js';

/** A position in the newest-first list of runs: after this one. */
const cursorOf = (r: RunSummary) => Buffer.from(`${r.createdAt}\u0000${r.runId}`).toString('base64url');

function parseCursor(text: string): { createdAt: number; runId: string } {
  const [at, runId] = Buffer.from(text, 'base64url').toString().split('\u0000');
  if (!runId || !Number.isFinite(Number(at)))
    throw new TroupeError('USAGE', `after=${JSON.stringify(text)} is not a cursor this server gave`, {
      context: { field: 'after' },
    });
  return { createdAt: Number(at), runId };
}

/**
 * One page of runs after `after`, newest first (later createdAt, then the greater id): keyset
 * pagination, stable while runs are added. The run log is asked for one run more than the
 * page, to know whether another page follows.
 */
async function runsPage(
  config: ConfigurationService,
  limit: number,
  after?: string,
): Promise<{ runs: RunSummary[]; next: string | null }> {
  const from = after ? parseCursor(after) : undefined;
  const found = await config.pageRuns({ limit: limit + 1, after: from });
  const runs = found.slice(0, limit);
  const last = runs[runs.length - 1];
  return { runs, next: found.length > limit && last ? cursorOf(last) : null };
}

const limitOf = (text: string | undefined): number => {
  const n = text === undefined ? 50 : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new TroupeError('USAGE', `limit must be a whole number from 1 to 500, got "${text}"`, {
      context: { field: 'limit' },
    });
  return n;
};

/** /runs: workflow runs, newest first, each with its steps, attempts and compensation. */
export const runRoutes = (config: ConfigurationService): Route[] => [
  {
    method: 'get',
    path: '/runs',
    summary: 'List workflow runs, newest first (keyset pagination: pass `next` as `after`)',
    tag: 'runs',
    scope: 'read',
    query: { limit: '1–500, default 50', after: 'the `next` of the previous page' },
    handle: async (req) => ({
      body: await runsPage(config, limitOf(req.query('limit')), req.query('after')),
    }),
  },
  {
    method: 'get',
    path: '/runs/{id}',
    summary: 'One run: its steps, attempts, circuit events and compensation, in order',
    tag: 'runs',
    scope: 'read',
    handle: async (req) => {
      const run = await config.showRun(req.params.id as string);
      if (!run)
        throw new TroupeError('NOT_FOUND', `run "${req.params.id}" not found`, {
          context: { runId: req.params.id },
        });
      return { body: run };
    },
  },
  {
    method: 'post',
    path: '/runs/{id}/resume',
    summary: 'Resume a partially-completed run',
    tag: 'runs',
    scope: 'write',
    handle: async (req) => ({ body: await config.resume(req.params.id as string, { signal: req.signal }) }),
  },
  {
    method: 'post',
    path: '/runs/{id}/cancel',
    summary: 'Cancel a partially-completed run: its completed steps are undone',
    tag: 'runs',
    scope: 'write',
    handle: async (req) => ({ body: await config.cancel(req.params.id as string) }),
  },
];
