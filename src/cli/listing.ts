import { type Command, Option } from 'commander';
import type * as Yaml from 'yaml';
import { lazyModule } from '../domain/lazy.js';
import { scrubMessage } from '../domain/secrets.js';
import type { CliContext } from './context.js';
import { table } from './format.js';
import type { Output } from './output.js';

const yaml = lazyModule<typeof Yaml>('yaml');

/** `-o` formats of every list command, as kubectl has them. */
export const FORMATS = ['table', 'wide', 'name', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];

export function addOutputOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('-o, --output <format>', 'table (default), wide (more columns), name (kind/id), json or yaml')
      .choices(FORMATS)
      .default('table'),
  );
}

/** What a list command prints, whatever the format. */
export interface Listing<T> {
  /** The singular kind, as `-o name` prints it: `agent/ada`. */
  kind: string;
  items: readonly T[];
  id(item: T): string;
  /** The machine form of each item (json and yaml); the item itself by default. */
  data?(item: T): unknown;
  columns: string[];
  row(item: T): string[];
  /** Columns added by `-o wide`, after the others. */
  wide?: { columns: string[]; row(item: T): string[] };
  /** The line printed for an empty table. */
  empty?: string;
}

/** Prints a listing in the format asked for (`--json` is `-o json`). */
export function printListing<T>(out: Output, format: Format, l: Listing<T>): void {
  const data = () => l.items.map((i) => (l.data ? l.data(i) : i));
  if (out.json || format === 'json') out.raw(JSON.stringify(data(), null, 2));
  else if (format === 'yaml') out.raw(l.items.length ? yaml().stringify(data()) : '[]');
  else if (format === 'name') for (const i of l.items) out.raw(`${l.kind}/${l.id(i)}`);
  else if (l.items.length === 0 && l.empty) out.line(l.empty);
  else {
    const wide = format === 'wide' && l.wide;
    out.lines(
      table(
        wide ? [...l.columns, ...wide.columns] : l.columns,
        l.items.map((i) => (wide ? [...l.row(i), ...wide.row(i)] : l.row(i))),
      ),
    );
  }
}

/** `-o` formats of a show command: the text a person reads, or the document as JSON or YAML. */
export const SHOW_FORMATS = ['text', 'json', 'yaml'] as const;
export type ShowFormat = (typeof SHOW_FORMATS)[number];

export function addShowOutputOption(cmd: Command): Command {
  return cmd.addOption(
    new Option(
      '-o, --output <format>',
      'text (default), json or yaml: the document, which create --from, update --from and apply accept back',
    )
      .choices(SHOW_FORMATS)
      .default('text'),
  );
}

/** Prints one shown document in the format asked for (`--json` is `-o json`). */
export function printShown(out: Output, format: ShowFormat, doc: unknown, text: string[]): void {
  if (out.json || format === 'json') out.raw(JSON.stringify(doc, null, 2));
  else if (format === 'yaml') out.raw(yaml().stringify(doc));
  else out.lines(text);
}

/** A listing shows what it can read; each file edited by hand past its schema is warned of (validate names them too). */
export function warnRefused(ctx: Pick<CliContext, 'warn'>, refused: ReadonlyArray<Error>): void {
  for (const e of refused) ctx.warn(`${scrubMessage(e.message)} (left out of the list until it is fixed)`);
}
