import { Bundle } from '../../configuration/bundle.js';
import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { flag } from '../guards.js';
import type { Route } from '../route.js';

/** /apply, /validate, /reconcile: whole-configuration changes and checks. */
export const bundleRoutes = (config: ConfigurationService): Route[] => [
  {
    method: 'post',
    path: '/apply',
    summary: 'Apply a bundle, all or nothing; `?dryRun=true` answers the field-by-field diff without writing',
    tag: 'configuration',
    scope: 'write',
    body: Bundle,
    query: { dryRun: 'true: plan only', prune: 'true: delete what the bundle does not name' },
    handle: async (req) => {
      const prune = flag(req, 'prune');
      const dryRun = flag(req, 'dryRun');
      return { body: await config.applyBundle(fromOutside(req.body), { prune, dryRun, signal: req.signal }) };
    },
  },
  {
    method: 'get',
    path: '/validate',
    summary: 'Check the whole configuration: every inconsistency, with the entity and field',
    tag: 'configuration',
    scope: 'read',
    handle: async () => {
      const issues = await config.detectInconsistencies();
      return { body: { valid: issues.length === 0, issues } };
    },
  },
  {
    method: 'post',
    path: '/reconcile',
    summary: 'Adopt hand edits and re-sync stale agents; `?dryRun=true` says what it would do',
    tag: 'configuration',
    scope: 'write',
    query: { dryRun: 'true: report only' },
    handle: async (req) => ({
      body: await config.reconcile({ dryRun: flag(req, 'dryRun'), signal: req.signal }),
    }),
  },
];
