import type * as Yaml from 'yaml';

/** Where a YAML input writes a revision in another form than decimal digits, and how. */
export interface OddRevision {
  /** The dotted path of the `revision` key (`personalities.0.revision`). */
  path: string;
  /** The value as written (`0x1`, `1e0`, `+1`). */
  source: string;
}

/**
 * The first `revision` whose number is not written in decimal digits. YAML reads `0x1`, `0o1`,
 * `1e0` and `+1` as the number 1, which a revision check would then take as given: a person
 * who writes that did not mean revision 1 (JSON files and `--expect-revision` refuse them too).
 */
export function oddRevision(yaml: typeof Yaml, doc: Yaml.Document): OddRevision | undefined {
  let found: OddRevision | undefined;
  // An alias stands for the node it names (`revision: *r` after `x: &r 0x1`).
  const scalar = (node: unknown) => {
    const n = yaml.isAlias(node) ? node.resolve(doc) : node;
    return yaml.isScalar(n) ? n : undefined;
  };
  yaml.visit(doc, {
    Pair(_, pair, ancestors) {
      if (scalar(pair.key)?.value !== 'revision') return;
      const { value, source } = scalar(pair.value) ?? {};
      // Decimal digits, without a leading zero (as JSON writes a number).
      if (typeof value !== 'number' || typeof source !== 'string' || /^(0|[1-9]\d*)$/.test(source)) return;
      found = { path: pathOf(yaml, [...ancestors, pair]), source };
      return yaml.visit.BREAK;
    },
  });
  return found;
}

/** The dotted path of the last of `nodes`, each a child of the one before it. */
function pathOf(yaml: typeof Yaml, nodes: readonly unknown[]): string {
  const parts: string[] = [];
  for (let i = 1; i < nodes.length; i++) {
    const parent = nodes[i - 1];
    const node = nodes[i];
    if (yaml.isPair(node)) parts.push(String(yaml.isScalar(node.key) ? node.key.value : node.key));
    else if (yaml.isSeq(parent)) parts.push(String(parent.items.indexOf(node as never)));
  }
  return parts.join('.');
}
