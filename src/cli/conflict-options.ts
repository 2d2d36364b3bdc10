import { type Command, InvalidArgumentError, Option } from 'commander';
import type { UpdateOptions } from '../configuration/configuration-service.js';
import {
  type ConflictEntry,
  type ConflictStrategy,
  MERGE_RULES,
  type MergeRule,
  STRATEGIES,
} from '../configuration/conflict.js';
import { TroupeError } from '../domain/errors.js';
import { showValue } from './format.js';

export interface ConflictFlags {
  onConflict?: ConflictStrategy;
  mergeRule?: Array<{ path: string; rule: MergeRule }>;
  expectRevision?: number;
}

/** The path that sets the rule of every field no other --merge-rule names. */
export const DEFAULT_RULE_PATH = '*';

/** `--merge-rule PATH=RULE`, repeatable; RULE is one of MERGE_RULES. */
export function mergeRuleArg(
  value: string,
  previous: ConflictFlags['mergeRule'],
): NonNullable<ConflictFlags['mergeRule']> {
  const m = /^([^=]+)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected PATH=RULE, e.g. bigFive.openness=max, got "${value}"`);
  const path = m[1]!.trim();
  const rule = m[2]!.trim();
  if (!(MERGE_RULES as readonly string[]).includes(rule))
    throw new InvalidArgumentError(`unknown rule "${rule}"; rules are ${MERGE_RULES.join(', ')}`);
  return [...(previous ?? []), { path, rule: rule as MergeRule }];
}

/** --on-conflict and --merge-rule, for `personality update` and `role update`. */
export function addConflictOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--on-conflict <strategy>',
        'with --expect-revision: what to do when someone else changed it since (default reject)',
      ).choices(STRATEGIES),
    )
    .option(
      '--merge-rule <path=rule>',
      `with --on-conflict field-merge: how to settle a field both changed (${MERGE_RULES.join(', ')}); ` +
        `"${DEFAULT_RULE_PATH}=RULE" for every other field (default last; repeatable)`,
      mergeRuleArg,
    );
}

/** The update options the flags ask for; flags that cannot take effect are a usage error. */
export function conflictOptions(
  opts: ConflictFlags,
): Pick<UpdateOptions, 'strategy' | 'rules' | 'defaultRule'> {
  const rules = opts.mergeRule ?? [];
  if (opts.onConflict !== undefined && opts.expectRevision === undefined)
    throw new TroupeError(
      'USAGE',
      '--on-conflict needs --expect-revision N: a conflict is a stored revision other than N',
    );
  if (rules.length && opts.onConflict !== 'field-merge')
    throw new TroupeError('USAGE', '--merge-rule needs --on-conflict field-merge');
  const out: Pick<UpdateOptions, 'strategy' | 'rules' | 'defaultRule'> = {};
  if (opts.onConflict !== undefined) out.strategy = opts.onConflict;
  const perField = rules.filter((r) => r.path !== DEFAULT_RULE_PATH);
  if (perField.length) out.rules = Object.fromEntries(perField.map((r) => [r.path, r.rule]));
  const fallback = rules.findLast((r) => r.path === DEFAULT_RULE_PATH);
  if (fallback) out.defaultRule = fallback.rule;
  return out;
}

/** One line per field both writers changed: `path: theirs X, mine Y → Z (rule)`. */
export function describeConflicts(conflicts: ConflictEntry[]): string[] {
  if (conflicts.length === 0) return [];
  return [
    `  settled ${conflicts.length === 1 ? '1 conflicting field' : `${conflicts.length} conflicting fields`}:`,
    ...conflicts.map(
      (c) =>
        `    ${c.path}: theirs ${showValue(c.theirs)}, mine ${showValue(c.mine)} → ${showValue(c.resolved)} (${c.rule})`,
    ),
  ];
}
