import type { Component } from './model.js';
import type { PlanFinding } from './report.js';

export interface DependencyGraph {
  /** Known dependencies per component; unknown names are dropped (and reported). */
  edges: Map<string, string[]>;
  findings: PlanFinding[];
}

export function dependencyGraph(components: Record<string, Component>): DependencyGraph {
  const findings: PlanFinding[] = [];
  const edges = new Map<string, string[]>();
  for (const [name, c] of Object.entries(components)) {
    const known: string[] = [];
    for (const dep of new Set(c.dependsOn)) {
      if (dep in components) known.push(dep);
      else {
        findings.push({
          code: 'UNKNOWN_DEPENDENCY', severity: 'error', component: name,
          message: `${name} depends on "${dep}", which is neither a service nor a database; it is ignored`,
        });
      }
    }
    edges.set(name, known);
  }
  for (const cycle of findCycles(edges)) {
    findings.push({
      code: 'DEPENDENCY_CYCLE', severity: 'error', component: cycle[0],
      message: `depends_on forms a cycle: ${[...cycle, cycle[0]].join(' → ')}; break it (each component in it is counted once)`,
    });
  }
  return { edges, findings };
}

/** The component itself first, then everything it depends on, transitively; each once. */
export function closureOf(name: string, edges: Map<string, string[]>): string[] {
  const seen = new Set<string>([name]);
  const queue = [name];
  for (let i = 0; i < queue.length; i++) {
    for (const dep of edges.get(queue[i] ?? '') ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  return queue;
}

/** Every elementary cycle met by a depth-first walk, each reported once. */
export function findCycles(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles = new Map<string, string[]>();
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') {
        const cycle = rotateToSmallest(stack.slice(stack.indexOf(next)));
        cycles.set(cycle.join('\u0000'), cycle);
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

function rotateToSmallest(cycle: string[]): string[] {
  let best = 0;
  cycle.forEach((n, i) => {
    if (n < (cycle[best] ?? '')) best = i;
  });
  return [...cycle.slice(best), ...cycle.slice(0, best)];
}
