// The stage graph: validation (duplicates, unknown inputs, cycles) and topological order.
// A cycle error prints its path, `a -> b -> a`.

import { EngineError } from '../errors.ts';

export interface GraphNode {
  name: string;
  inputs: readonly string[];
}

export class GraphError extends EngineError {
  declare readonly reason: 'duplicate' | 'unknown-input' | 'cycle' | 'unknown-stage';
  constructor(reason: GraphError['reason'], message: string, hint?: string) {
    super(reason, message, hint);
  }
}

/** Throws GraphError on a duplicate name, an unknown input or a cycle. */
export function validateGraph(nodes: readonly GraphNode[]): void {
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) throw new GraphError('duplicate', `duplicate stage name "${n.name}"`, 'every stage needs a unique name');
    names.add(n.name);
  }
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (!names.has(i)) {
        throw new GraphError(
          'unknown-input',
          `stage "${n.name}" declares unknown input "${i}"\nvalid stages: ${[...names].sort().join(', ')}`,
        );
      }
    }
  }
  const cycle = findCycle(nodes);
  if (cycle) throw new GraphError('cycle', `cycle in the stage graph: ${cycle.join(' -> ')}`);
}

/** A cycle as a path [a, b, …, a], or null. Depth-first with an explicit colour map. */
export function findCycle(nodes: readonly GraphNode[]): string[] | null {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const colour = new Map<string, 0 | 1 | 2>(); // 0 new, 1 on stack, 2 done
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    colour.set(name, 1);
    stack.push(name);
    for (const dep of byName.get(name)?.inputs ?? []) {
      const c = colour.get(dep) ?? 0;
      if (c === 1) return [...stack.slice(stack.indexOf(dep)), dep];
      if (c === 0 && byName.has(dep)) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    colour.set(name, 2);
    return null;
  };
  for (const n of nodes) {
    if ((colour.get(n.name) ?? 0) === 0) {
      const found = visit(n.name);
      if (found) return found.reverse(); // a -> b means "a feeds b"
    }
  }
  return null;
}

/** Names needed to build `targets`: the targets and everything upstream, in topological order. */
export function upstreamClosure(nodes: readonly GraphNode[], targets: readonly string[]): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const node = byName.get(name);
    if (!node) throw new GraphError('unknown-stage', `unknown stage "${name}"\nvalid stages: ${[...byName.keys()].sort().join(', ')}`);
    seen.add(name);
    for (const dep of node.inputs) visit(dep);
    out.push(name);
  };
  for (const t of targets) visit(t);
  return out;
}

/** All nodes in a topological order (inputs before their consumers), stable by declaration order. */
export function topoSort(nodes: readonly GraphNode[]): string[] {
  return upstreamClosure(nodes, nodes.map((n) => n.name));
}
