import { distance } from 'fastest-levenshtein';

/** Closest candidates to a mistyped id or name: "did you mean" material, best first. */
export function suggest(input: string, candidates: Iterable<string>, max = 3): string[] {
  const needle = input.toLowerCase();
  const scored: Array<{ c: string; d: number }> = [];
  for (const c of new Set(candidates)) {
    const hay = c.toLowerCase();
    const d = hay.includes(needle) || needle.includes(hay) ? 0.5 : distance(needle, hay);
    const limit = Math.max(2, Math.floor(Math.max(needle.length, hay.length) * 0.4));
    if (d <= limit) scored.push({ c, d });
  }
  return scored
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((s) => s.c);
}
