/** Relations a plan (EXPLAIN's JSON) reads whole (`Seq Scan`), anywhere in it. */
export function scannedWhole(plan: unknown, out: string[] = []): string[] {
  if (Array.isArray(plan)) for (const p of plan) scannedWhole(p, out);
  else if (plan && typeof plan === 'object') {
    const node = plan as Record<string, unknown>;
    if (node['Node Type'] === 'Seq Scan') out.push(String(node['Relation Name']));
    for (const v of Object.values(node)) if (v && typeof v === 'object') scannedWhole(v, out);
  }
  return out;
}
