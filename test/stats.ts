import { appendFileSync } from 'node:fs';

/**
 * What a reliability test exercised, for `npm run reliability`: with TROUPE_STATS=FILE set,
 * each call appends one JSON line (a figure under a row of the table). Called only after the
 * test's checks passed, so a figure is what held.
 */
export function stat(row: string, figure: string, value: number): void {
  const file = process.env.TROUPE_STATS;
  if (file) appendFileSync(file, `${JSON.stringify({ row, figure, value })}\n`);
}
