import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Argument, type Command } from 'commander';
import { parse, stringify } from 'yaml';
import type { ConfigurationService } from '../../configuration/configuration-service.js';
import { fromOutside } from '../../configuration/inputs.js';
import { isTroupeError, TroupeError } from '../../domain/errors.js';
import { valueProblems } from '../../domain/text.js';
import type { CliContext } from '../context.js';
import { mergePatchBetween } from '../merge-patch-between.js';

const KINDS = ['personality', 'role', 'agent', 'model'] as const;
type EditKind = (typeof KINDS)[number];

/** The service of a kind (each reads, parses and replaces its own). */
const serviceOf = (config: ConfigurationService, kind: EditKind) => {
  const s = config.services;
  return { personality: s.personalities, role: s.roles, agent: s.agents, model: s.models }[
    kind
  ] as typeof s.personalities;
};

const PLURAL = { personality: 'personalities', role: 'roles', agent: 'agents', model: 'models' } as const;

/**
 * What can be edited of each kind: its editable fields and revision, and how it is updated.
 * One whose stored file fails its schema (edited by hand) is opened as stored, with what is
 * wrong with it, to be replaced whole once valid (`broken`).
 */
async function opened(
  config: ConfigurationService,
  kind: EditKind,
  id: string,
): Promise<{ doc: Record<string, unknown>; revision: number; broken: string[] }> {
  const s = config.services;
  const svc = serviceOf(config, kind);
  const found = await svc.replaceable(id);
  if (found?.refusal)
    return {
      doc: svc.editable(found.current as never),
      revision: found.current.revision,
      broken: [found.refusal.message],
    };
  switch (kind) {
    case 'personality': {
      const e = await s.personalities.require(id);
      return { doc: s.personalities.editable(e), revision: e.revision, broken: [] };
    }
    case 'role': {
      const e = await s.roles.require(id);
      if (e.predefined)
        throw new TroupeError(
          'USAGE',
          `role "${id}" is predefined and cannot be edited; copy it with \`troupe role create --from-template ${id}\``,
        );
      return { doc: s.roles.editable(e), revision: e.revision, broken: [] };
    }
    case 'agent': {
      const e = await s.agents.require(id);
      return { doc: s.agents.editable(e), revision: e.revision, broken: [] };
    }
    case 'model': {
      const e = await s.models.get(id);
      if (!e)
        throw new TroupeError(
          'USAGE',
          `model "${id}" is not one of the directory's models (models/); add one with \`troupe models add\``,
        );
      return { doc: s.models.editable(e), revision: e.revision ?? 0, broken: [] };
    }
  }
}

/** A stored file broken by hand, replaced whole by the edit (as `apply` of it would), held to its revision. */
async function replace(
  config: ConfigurationService,
  kind: EditKind,
  id: string,
  value: Record<string, unknown>,
  expectedRevision: number,
): Promise<number> {
  // Its own fields first, said as an update's are; then the bundle checks what it refers to.
  const s = config.services;
  ({ personality: s.personalities, role: s.roles, agent: s.agents, model: s.models })[kind].parse({
    ...value,
    id,
  });
  const entry = { ...value, id, revision: expectedRevision };
  await config.applyBundle(fromOutside({ [PLURAL[kind]]: [entry] }), { file: `${kind} ${id}` });
  const now = await config.services.store.get(PLURAL[kind], id);
  return now?.revision ?? expectedRevision;
}

/** Applies the patch; answers the revision it left (the one it started from when nothing was written). */
async function update(
  config: ConfigurationService,
  kind: EditKind,
  id: string,
  patch: unknown,
  expectedRevision: number,
): Promise<number> {
  const opts = { expectedRevision };
  if (kind === 'personality')
    return (await config.updatePersonality(id, fromOutside(patch), opts)).personality.revision;
  if (kind === 'role') return (await config.updateRole(id, fromOutside(patch), opts)).role.revision;
  if (kind === 'agent') return (await config.updateAgent(id, fromOutside(patch), opts)).agent.revision;
  return (await config.updateModel(id, fromOutside(patch), opts)).model.revision;
}

const header = (kind: string, id: string, revision: number, errors: string[]) =>
  [
    `# Edit ${kind} ${id} (revision ${revision}); save and close the editor to apply it.`,
    '# Lines starting with # are ignored. Leave it as it was, or empty it, to cancel.',
    ...errors.flatMap((e) => e.split('\n').map((l) => `# error: ${l}`)),
    '',
  ].join('\n');

const withoutComments = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

/** How often an edit is reopened with its error before it is given up. */
const MAX_TRIES = 10;

/** `troupe edit KIND ID`, as `kubectl edit`: nothing is written until the edit is valid. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('edit')
    .description(
      'edit an entity in $VISUAL or $EDITOR (YAML): reopened with the error until valid; compare-and-swap on the revision opened',
    )
    .addArgument(new Argument('<kind>', 'what to edit').choices(KINDS))
    .argument('<id>', 'its id')
    .action(async (kind: EditKind, id: string, _opts: object, cmd: Command) => {
      const out = ctx.output(cmd);
      const editor = ctx.io.env.VISUAL || ctx.io.env.EDITOR || 'vi';
      await ctx.withConfig(cmd, async (config) => {
        const { doc, revision, broken } = await opened(config, kind, id);
        const dir = await mkdtemp(join(tmpdir(), 'troupe-edit-'));
        const file = join(dir, `${kind}-${id}.yaml`);
        let body = stringify(doc);
        let errors: string[] = broken;
        // Reopened with the error for a person to fix; without a terminal there is none (an
        // editor run by a script that makes the same mistake every time), and no one reopens forever.
        const tries = ctx.io.isTTY ? MAX_TRIES : 1;
        try {
          for (let round = 0; ; round++) {
            if (round > 0 && errors.length && round >= tries)
              throw new TroupeError(
                'VALIDATION_FAILED',
                `edit of ${kind} ${id} abandoned after ${round} ${round === 1 ? 'try' : 'tries'}${ctx.io.isTTY ? '' : ' (no terminal: it is not reopened)'}: ${errors.join('; ')}; nothing written`,
              );
            await writeFile(file, header(kind, id, revision, errors) + body, { mode: 0o600 });
            const r = spawnSync(`${editor} '${file.replaceAll("'", `'\\''`)}'`, {
              shell: true,
              stdio: 'inherit',
              env: ctx.io.env,
            });
            if (r.status !== 0)
              throw new TroupeError(
                'USAGE',
                `the editor (${editor}) exited with ${r.status ?? r.signal}: nothing written`,
              );
            const edited = withoutComments(await readFile(file, 'utf8'));
            if (edited.trim() === '' || (edited === body && errors.length === 0)) {
              out.data({ kind, id, changed: false });
              return out.line(`Edit cancelled: ${kind} ${id} left as it was`);
            }
            if (edited === body) {
              // Saved again with the error still in it: give up, keeping nothing.
              throw new TroupeError(
                'VALIDATION_FAILED',
                `edit of ${kind} ${id} abandoned: ${errors.join('; ')}; nothing written`,
              );
            }
            body = edited;
            let value: unknown;
            try {
              value = parse(edited);
            } catch (e) {
              errors = [`not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`];
              continue;
            }
            if (value === null || typeof value !== 'object' || Array.isArray(value)) {
              errors = ['must be a YAML mapping of the fields'];
              continue;
            }
            // Held to what every input is (a prototype key, a control character): refused, not
            // dropped on the way into the patch.
            const problems = valueProblems(value);
            if (problems.length) {
              errors = problems.map((p) => `${p.path}: ${p.message}`);
              continue;
            }
            const patch = mergePatchBetween(doc, value as Record<string, unknown>);
            let now: number;
            try {
              now = broken.length
                ? await replace(config, kind, id, value as Record<string, unknown>, revision)
                : await update(config, kind, id, patch, revision);
            } catch (e) {
              if (!isTroupeError(e) || e.code !== 'VALIDATION_FAILED') throw e;
              errors = [e.message];
              continue;
            }
            // What the update wrote, not what the patch asked: store metadata edited is no change.
            if (now === revision) {
              out.data({ kind, id, changed: false, revision });
              return out.line(`Unchanged ${kind} ${id} at revision ${revision}: nothing to write`);
            }
            out.data({ kind, id, changed: true, patch, revision: now });
            return out.line(
              `Edited ${kind} ${id}: ${Object.keys(patch).join(', ')} changed (revision ${now})`,
            );
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    });
}
