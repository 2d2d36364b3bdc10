import type stringWidthFn from 'string-width';
import { lazyDefault } from '../domain/lazy.js';

const stringWidth = lazyDefault<typeof stringWidthFn>('string-width');

/** Display width: printable ASCII is one cell per character; anything else is measured. */
const width = (s: string) => (/^[\x20-\x7e]*$/.test(s) ? s.length : stringWidth()(s));

/** A plain-text table: a header row, then one row per entry, columns padded to fit. */
export function table(headers: string[], rows: string[][]): string[] {
  // Columns by the width a terminal shows (CJK and emoji take two cells), not by code units.
  // A loop, not a spread: a table of 300,000 rows is more arguments than a call takes.
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, width(r[i] ?? '')), width(h)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(c)))))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)];
}

/** A value as a person reads it in a diff: strings quoted, long text shortened. */
export function showValue(v: unknown, max = 60): string {
  if (v === undefined) return '(unset)';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Indents every line of a block of text. */
export const indent = (text: string, by = '  '): string =>
  text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
