/** The shape of a step that graph analysis needs. */
export interface GraphNode {
  id: string;
  dependsOn?: readonly string[] | undefined;
}

/** One cycle in the dependency graph, as the ids along it with the first repeated at the end. */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const deps = new Map(nodes.map((n) => [n.id, n.dependsOn ?? []]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const cycle = visit(n.id);
    // A dependency cycle reads more naturally in execution order: a → b → a means "b needs a".
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** For each node, every node it transitively depends on (assumes no cycles). */
export function ancestors(nodes: readonly GraphNode[]): Map<string, Set<string>> {
  const deps = new Map(nodes.map((n) => [n.id, n.dependsOn ?? []]));
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const out = new Set<string>();
    memo.set(id, out);
    for (const dep of deps.get(id) ?? []) {
      out.add(dep);
      for (const a of of(dep)) out.add(a);
    }
    return out;
  };
  for (const n of nodes) of(n.id);
  return memo;
}

/** For each node, the nodes that directly depend on it, in definition order. */
export function dependents(nodes: readonly GraphNode[]): Map<string, string[]> {
  const out = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const dep of n.dependsOn ?? []) out.get(dep)?.push(n.id);
  return out;
}

/** A node and everything downstream of it. */
export function downstream(id: string, direct: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>([id]);
  const queue = [id];
  for (let cur = queue.shift(); cur !== undefined; cur = queue.shift()) {
    for (const d of direct.get(cur) ?? []) {
      if (!out.has(d)) {
        out.add(d);
        queue.push(d);
      }
    }
  }
  return out;
}
