import type { Task } from './types.js';
import type { PathSegment } from './path.js';
import type { Reader } from './decode/reader.js';
import { dependIndex } from './decode/depends.js';

/** Document order of two task paths (they differ in their last, numeric segment). */
function comparePaths(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  return Number(a[a.length - 1]) - Number(b[b.length - 1]);
}

/** Names of the direct parents of each task that exist in the run. */
function parentsByName(tasks: readonly Task[]): Map<string, string[]> {
  const names = new Set(tasks.map((t) => t.name));
  return new Map(
    tasks.map((t) => [t.name, t.depends.map((d) => d.task).filter((n) => names.has(n))]),
  );
}

/** Groups of tasks that depend on each other in a loop (strongly connected components), in document order. */
export function findCycles(tasks: readonly Task[]): string[][] {
  const parents = parentsByName(tasks);
  const order = new Map(tasks.map((t, i) => [t.name, i]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of parents.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (parents.get(v) ?? []).includes(v)) {
        cycles.push(group.sort((a, b) => (order.get(a) as number) - (order.get(b) as number)));
      }
    }
  };
  for (const t of tasks) if (!index.has(t.name)) visit(t.name);
  return cycles.sort(
    (a, b) => (order.get(a[0] as string) as number) - (order.get(b[0] as string) as number),
  );
}

/** Every ancestor of a task (its parents, their parents, ...). Assumes no cycles. */
export function ancestorsOf(
  name: string,
  parents: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const out = new Set<string>();
  const todo = [...(parents.get(name) ?? [])];
  while (todo.length > 0) {
    const p = todo.pop() as string;
    if (out.has(p)) continue;
    out.add(p);
    todo.push(...(parents.get(p) ?? []));
  }
  return out;
}

/**
 * Checks the dependency graph of a run's tasks: every parent exists, there are no cycles
 * (each cycle is reported once, listing its tasks), and a task does not depend both on a
 * task and on one of that task's ancestors (Agola rejects this redundancy).
 */
export function checkTaskGraph(
  r: Reader,
  tasks: readonly Task[],
  paths: readonly PathSegment[][],
  /** Tasks without a (valid) name: only their parents' existence is checked. */
  unnamed: readonly { task: Task; path: readonly PathSegment[] }[] = [],
): void {
  const byName = new Map(tasks.map((t, i) => [t.name, i]));
  const all = [...tasks.map((task, i) => ({ task, path: paths[i] ?? [] })), ...unnamed].sort(
    (a, b) => comparePaths(a.path, b.path),
  );
  for (const { task, path } of all) {
    for (const d of task.depends) {
      if (!byName.has(d.task)) {
        r.fail(
          [...path, 'depends', dependIndex.get(d) ?? 0],
          `task ${JSON.stringify(d.task)} does not exist`,
        );
      }
    }
  }
  const cycles = findCycles(tasks);
  for (const cycle of cycles) {
    const first = byName.get(cycle[0] as string) as number;
    r.fail(
      [...(paths[first] ?? []), 'depends'],
      `circular dependency between tasks ${cycle.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  if (cycles.length > 0) return;
  const parents = parentsByName(tasks);
  tasks.forEach((task, i) => {
    const direct = parents.get(task.name) ?? [];
    for (const parent of direct) {
      const above = ancestorsOf(parent, parents);
      for (const d of task.depends) {
        if (d.task !== parent && above.has(d.task)) {
          r.fail(
            [...(paths[i] ?? []), 'depends', dependIndex.get(d) ?? 0],
            `task ${JSON.stringify(task.name)} and its dependency ${JSON.stringify(parent)} both depend on task ${JSON.stringify(d.task)}`,
          );
        }
      }
    }
  });
}
