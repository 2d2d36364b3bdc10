import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Issue, TroupeError } from '../domain/errors.js';
import { BEHAVIOR_TRAITS, BIG_FIVE_TRAITS } from '../domain/personality.js';
import { looksRandom } from '../domain/secrets.js';
import { suggest } from '../domain/suggest.js';

/** A number option; anything else is a usage error (exit 2). */
export function numberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** A whole-number option of at least `min`. */
export const intArg =
  (min: number) =>
  (value: string): number => {
    // Decimal digits only: "0x1", "1e3" and " 2" are not what a person means by a revision.
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected a whole number of at least ${min}, got "${value}"`);
    }
    return n;
  };

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

export interface TraitArg {
  name: string;
  value: string;
}

/** `--trait name=value`, repeatable; the shape is checked here, name and value by traitPatch. */
export function traitArg(value: string, previous: TraitArg[] | undefined): TraitArg[] {
  const m = /^([^=]+)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected name=value, e.g. openness=80, got "${value}"`);
  return [...(previous ?? []), { name: m[1]!.trim(), value: m[2]!.trim() }];
}

/** A flag given a value it cannot take: a usage error (exit 2), with the issue named. */
const usage = (message: string, issues: Issue[], context: Record<string, unknown>) =>
  new TroupeError('USAGE', message, { issues, context });

const ALL_TRAITS: readonly string[] = [...BIG_FIVE_TRAITS, ...BEHAVIOR_TRAITS];

/** Turns --trait flags into a patch of bigFive / behaviors; unknown names get "did you mean". */
export function traitPatch(traits: TraitArg[] | undefined): Record<string, Record<string, number>> {
  const patch: Record<string, Record<string, number>> = {};
  for (const { name, value } of traits ?? []) {
    const group = (BIG_FIVE_TRAITS as readonly string[]).includes(name)
      ? 'bigFive'
      : (BEHAVIOR_TRAITS as readonly string[]).includes(name)
        ? 'behaviors'
        : undefined;
    if (!group) {
      const close = suggest(name, ALL_TRAITS);
      const hint = close.length
        ? `did you mean ${close.map((c) => `"${c}"`).join(', ')}?`
        : `known traits: ${ALL_TRAITS.join(', ')}`;
      const message = `unknown trait "${name}"; ${hint}`;
      // The name is said only quoted (where a key pasted as one is redacted), never as a path.
      throw usage(`--trait: ${message}`, [{ path: '--trait', message }], {
        ...(looksRandom(name) ? {} : { trait: name }),
        suggestions: close,
      });
    }
    if (!/^\d+$/.test(value) || Number(value) > 100) {
      const message = `must be an integer 0–100, got "${value}"`;
      throw usage(`--trait ${name}: ${message}`, [{ path: `${group}.${name}`, message }], { trait: name });
    }
    patch[group] ??= {};
    patch[group][name] = Number(value);
  }
  return patch;
}

/** Keeps only the keys whose value was given, so flags never blank out file fields. */
export function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** --from FILE, shared by create and update. */
export const fromOption = (what: string) =>
  new Option('--from <file>', `read ${what} from a JSON or YAML file`);

/** --expect-revision N: compare-and-swap against the stored revision. */
export const expectRevisionOption = () =>
  new Option(
    '--expect-revision <n>',
    'fail unless the stored revision is N (guards against lost updates)',
  ).argParser(intArg(1));

/** --cascade / --reassign for deleting something agents may use. */
export function addDeleteModeOptions(cmd: Command, label: string): Command {
  return cmd
    .addOption(new Option('--cascade', `also delete the agents that use this ${label}`).conflicts('reassign'))
    .addOption(
      new Option('--reassign <id>', `move the agents that use this ${label} to another ${label}`).conflicts(
        'cascade',
      ),
    );
}

/** `--id` (on create), `--name` and `--description`: the fields every entity's create and update take. */
export function addNameOptions(cmd: Command, what: 'create' | 'update'): Command {
  if (what === 'create') cmd.option('--id <id>', 'id (a lowercase slug); default: the slug of the name');
  return cmd.option('--name <name>', 'display name').option('--description <text>', 'one-line description');
}
