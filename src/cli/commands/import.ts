import type { Command } from 'commander';
import type { EntityChange } from '../../configuration/bundle.js';
import { fromOutside } from '../../configuration/inputs.js';
import { applyBundleWorkflow } from '../../configuration/workflows.js';
import type { CliContext } from '../context.js';
import { showValue } from '../format.js';
import { withProgress } from '../progress.js';

const ORDER: EntityChange['action'][] = ['create', 'update', 'sync', 'delete', 'unchanged'];
const singular: Record<string, string> = {
  personalities: 'personality',
  roles: 'role',
  models: 'model',
  agents: 'agent',
};

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A created entity's fields as leaves: `bigFive.openness` rather than one `bigFive` object. */
function leaves(path: string, value: unknown): Array<[string, unknown]> {
  if (!isObj(value) || Object.keys(value).length === 0) return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(`${path}.${k}`, v));
}

/** The diff of a bundle, entity by entity and field by field: `path: from → to`. */
export function describeChanges(changes: EntityChange[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    lines.push(`${c.action.padEnd(9)} ${singular[c.kind] ?? c.kind} ${c.id}`);
    if (c.action === 'create') {
      const fields = c.changes.filter((f) => f.path !== 'id').flatMap((f) => leaves(f.path, f.to));
      for (const [path, to] of fields) lines.push(`    ${path}: ${showValue(undefined)} → ${showValue(to)}`);
    }
    if (c.action === 'update') {
      for (const f of c.changes) lines.push(`    ${f.path}: ${showValue(f.from)} → ${showValue(f.to)}`);
    }
    if (c.action === 'sync') lines.push('    re-composed against its changed personality or role');
  }
  return lines;
}

const DONE: Record<EntityChange['action'], [string, string]> = {
  create: ['to create', 'created'],
  update: ['to update', 'updated'],
  sync: ['to re-compose', 're-composed'],
  delete: ['to delete', 'deleted'],
  unchanged: ['unchanged', 'unchanged'],
};

/** `2 created, 1 updated, 3 unchanged` (or `2 to create, ...` for a dry run). */
export function summary(changes: EntityChange[], applied: boolean): string {
  const n = (a: EntityChange['action']) => changes.filter((c) => c.action === a).length;
  return ORDER.filter((a) => n(a) > 0)
    .map((a) => `${n(a)} ${DONE[a][applied ? 1 : 0]}`)
    .join(', ');
}

/** A terminal's height when it does not say (the VT100's). */
const DEFAULT_ROWS = 24;

/** More lines than fit on the terminal, with room for the summary: they would scroll past unread. */
const overflows = (ctx: CliContext, lines: number) => lines > (ctx.io.rows ?? DEFAULT_ROWS) - 2;

export interface ApplyFlags {
  dryRun?: boolean;
  prune?: boolean;
  /** The summary line only, not one line per entity and field (for big bundles). */
  quiet?: boolean;
}

/** Progress for big bundles: the apply-bundle workflow has few steps, but its commit may be large. */
const entityCount = (bundle: unknown): number =>
  bundle !== null && typeof bundle === 'object'
    ? Object.values(bundle).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0)
    : 0;

/** `troupe import FILE` and `troupe apply -f FILE`: plan or apply a bundle, then print the diff. */
export async function applyBundleFile(
  ctx: CliContext,
  cmd: Command,
  file: string,
  opts: ApplyFlags,
  verb: string,
): Promise<EntityChange[]> {
  const out = ctx.output(cmd);
  const bundle = await ctx.readInput(file);
  const entities = entityCount(bundle);
  const steps = applyBundleWorkflow.steps.length;
  // A bundle too big to list on the terminal gets a progress bar, not a line per step.
  const bar = overflows(ctx, entities) ? { steps, label: `${file}: ${entities} entities` } : undefined;
  const r = await ctx.withConfig(cmd, (config) =>
    withProgress(
      ctx,
      cmd,
      config,
      Math.max(steps, entities),
      () =>
        config.applyBundle(fromOutside(bundle), {
          file,
          prune: opts.prune === true,
          dryRun: opts.dryRun === true,
        }),
      bar,
    ),
  );
  // Kinds spelled as every other command's JSON spells them: "personality", not "personalities".
  out.data({ ...r, changes: r.changes.map((c) => ({ ...c, kind: singular[c.kind] ?? c.kind })) });
  // An apply on a terminal whose diff would not fit on it shows its progress bar, then the
  // summary: thousands of diff lines scroll past unread (--dry-run, or --json, gives every one).
  const lines = opts.quiet ? [] : describeChanges(r.changes);
  const big = r.applied && ctx.io.isTTY && overflows(ctx, lines.length);
  if (!big) out.lines(lines);
  if (big) out.line(`${r.changes.length} entities; \`--dry-run\` lists each change`);
  const what = summary(r.changes, r.applied) || 'the bundle is empty';
  out.line(r.applied ? `${verb} ${file}: ${what}` : `Dry run: ${what}; nothing written`);
  return r.changes;
}

/** The options `import`, `apply` and `diff` share. */
export function addBundleOptions(cmd: Command, dryRun = true): Command {
  if (dryRun) cmd.option('--dry-run', 'print the diff without writing anything');
  return cmd
    .option('--prune', 'delete stored agents, personalities and custom roles the bundle leaves out')
    .option('-q, --quiet', 'print the summary line only, not every entity and field');
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('import')
    .description('apply a bundle file (JSON or YAML) all-or-nothing: create, update, and with --prune delete')
    .argument('<file>', 'bundle file: { personalities: [], roles: [], models: [], agents: [] }');
  addBundleOptions(cmd).action(async (file: string, opts: ApplyFlags, c: Command) => {
    await applyBundleFile(ctx, c, file, opts, 'Imported');
  });
}
