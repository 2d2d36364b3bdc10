import type { Command } from 'commander';
import { z } from 'zod';
import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { isTroupeError, TroupeError } from '../../domain/errors.js';
import { keyOf } from '../../storage/batch.js';
import { singular } from '../../storage/store.js';
import type { CliContext } from '../context.js';
import { describeTarget, parseStoreTarget } from '../store-target.js';
import { refuseLeftOut } from './export.js';
import { describeChanges, summary } from './import.js';

/** When each stored entity of a bundle's kinds was first created, by `kind/id` (a time that is one). */
async function createdTimes(config: ConfigurationService): Promise<Record<string, string>> {
  const created: Record<string, string> = {};
  for (const kind of ['personalities', 'roles', 'models', 'agents'] as const)
    for (const d of await config.services.store.list(kind))
      if (z.iso.datetime().safeParse(d.createdAt).success) created[keyOf(kind, d.id)] = d.createdAt;
  return created;
}

/**
 * `troupe migrate --to STORE`: everything in this store (the one --store, $TROUPE_STORE or
 * --dir names) into another, as one all-or-nothing apply there: a directory into a database,
 * a database into a directory, or any store into any other. The source is only read.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description(
      'copy every personality, role, model and agent of this store into another (a directory, pglite:PATH or postgres://…), all-or-nothing',
    )
    .requiredOption(
      '--to <store>',
      'the store to move into: a directory (initialised), file:PATH, pglite:PATH or postgres://…',
    )
    .option('--dry-run', 'print what the target would change, writing nothing')
    .option('--prune', 'also delete what the target holds and this store does not')
    .action(async (opts: { to: string; dryRun?: boolean; prune?: boolean }, cmd: Command) => {
      const out = ctx.output(cmd);
      const target = parseStoreTarget(opts.to, ctx.io.cwd);
      const source = ctx.storeTarget(cmd) ?? { engine: 'file' as const, dir: ctx.located(cmd).dir };
      if (describeTarget(source) === describeTarget(target))
        throw new TroupeError(
          'USAGE',
          `--to ${describeTarget(target)} is the store being migrated: name another`,
        );
      // With when each entity was first created: the target's copies keep it (their revisions
      // are the target's own count, from 1).
      const { bundle, created } = await ctx.withConfig(
        cmd,
        async (config, store) => {
          await refuseLeftOut(store);
          return { bundle: await config.exportBundle(), created: await createdTimes(config) };
        },
        { strays: false },
      );
      const from = describeTarget(source);
      const apply = (config: ConfigurationService, dryRun = opts.dryRun === true) =>
        config.applyBundle(fromOutside(bundle), { file: from, prune: opts.prune === true, dryRun, created });
      // A directory must be initialised. A database with no store yet is created, but only once
      // an empty store has been shown to take the bundle in (a dry run shows just that): one it
      // refuses creates no store either.
      const r =
        target.engine === 'file'
          ? await ctx.withConfig(cmd, (c) => apply(c), { target, create: opts.dryRun !== true })
          : await ctx
              .withConfig(cmd, (c) => apply(c), { target, create: false })
              .catch(async (e: unknown) => {
                if (!isTroupeError(e) || e.code !== 'NOT_A_TROUPE_DIRECTORY') throw e;
                const [{ ConfigurationService: Service }, { MemoryStore }] = await Promise.all([
                  import('../../configuration/configuration-service.js'),
                  import('../../storage/memory/index.js'),
                ]);
                const preview = await apply(new Service(new MemoryStore()), true);
                if (opts.dryRun === true) return preview;
                return ctx.withConfig(cmd, (c) => apply(c), { target, create: true });
              });
      out.data({
        from,
        to: describeTarget(target),
        ...r,
        changes: r.changes.map((c) => ({ ...c, kind: singular[c.kind] ?? c.kind })),
      });
      out.lines(describeChanges(r.changes));
      const what = summary(r.changes, r.applied) || 'nothing to move';
      out.line(
        r.applied
          ? `Migrated ${from} to ${describeTarget(target)}: ${what}`
          : `Dry run: ${what}; nothing written to ${describeTarget(target)}`,
      );
    });
}
