import type { RunConfigTask } from '@agola-ts/types';

/** Run config tasks by id, as in a run config or a run create request. */
export type RunConfigTasks = Readonly<Record<string, RunConfigTask>>;

/** The task stored under `id`, only through an own property (ids come from requests). */
export function taskById<T>(tasks: Readonly<Record<string, T>>, id: string): T | undefined {
  return Object.hasOwn(tasks, id) ? tasks[id] : undefined;
}

/**
 * The direct parents of `task`: the tasks of `tasks` that `task.depends` names, in `depends`
 * order. A depend on an id that is not in `tasks` is not a parent (as in Agola;
 * `checkRunConfigTasks` reports it at creation). O(number of depends).
 */
export function getParents(tasks: RunConfigTasks, task: RunConfigTask): RunConfigTask[] {
  const parents: RunConfigTask[] = [];
  for (const id of Object.keys(task.depends ?? {})) {
    const parent = taskById(tasks, id);
    if (parent !== undefined) parents.push(parent);
  }
  return parents;
}

/**
 * Every ancestor of `task` (parents, their parents, ...), each once. With a cycle through
 * `task`, `task` itself is among them (that is how cycles are detected); never loops.
 */
export function getAllParents(tasks: RunConfigTasks, task: RunConfigTask): RunConfigTask[] {
  const seen = new Map<string, RunConfigTask>();
  let next = getParents(tasks, task);
  while (next.length > 0) {
    const current = next;
    next = [];
    for (const parent of current) {
      if (seen.has(parent.id)) continue;
      seen.set(parent.id, parent);
      next.push(...getParents(tasks, parent));
    }
  }
  return [...seen.values()];
}

/** Orders tasks by level, then name, then id: the order Agola gives workspace operations. */
export function compareByLevelName(a: RunConfigTask, b: RunConfigTask): number {
  if (a.level !== b.level) return a.level - b.level;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Go's `%q` for the names in Agola's messages (a JSON string is the same for plain text). */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/** Parent and child ids of every task, built once so graph walks are linear. */
export interface TaskGraph {
  /** Task ids, in the order of the tasks record. */
  ids: string[];
  /** Task id → ids of its parents that exist, in `depends` order. */
  parents: Map<string, string[]>;
  /** Task id → ids of the tasks that depend on it. */
  children: Map<string, string[]>;
}

/** Indexes the parents and children of every task (depends on unknown tasks are left out). */
export function buildTaskGraph(tasks: RunConfigTasks): TaskGraph {
  const ids = Object.values(tasks).map((t) => t.id);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const t of Object.values(tasks)) {
    const ps = getParents(tasks, t).map((p) => p.id);
    parents.set(t.id, ps);
    for (const p of ps) children.get(p)?.push(t.id);
  }
  return { ids, parents, children };
}

/**
 * The strongly connected components of the graph (Tarjan's algorithm, iterative so a long
 * chain of tasks cannot overflow the stack): task id → component number. A task is in a cycle
 * when its component has another task, or it depends on itself.
 */
export function stronglyConnectedComponents(graph: TaskGraph): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let next = 0;
  let components = 0;
  for (const root of graph.ids) {
    if (index.has(root)) continue;
    const work: { id: string; child: number }[] = [{ id: root, child: 0 }];
    index.set(root, next);
    low.set(root, next);
    next++;
    stack.push(root);
    onStack.add(root);
    for (let frame = work.at(-1); frame !== undefined; frame = work.at(-1)) {
      const children = graph.children.get(frame.id) ?? [];
      if (frame.child < children.length) {
        const c = children[frame.child++] ?? '';
        if (!index.has(c)) {
          index.set(c, next);
          low.set(c, next);
          next++;
          stack.push(c);
          onStack.add(c);
          work.push({ id: c, child: 0 });
        } else if (onStack.has(c)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(c) ?? 0));
        }
        continue;
      }
      work.pop();
      const parentFrame = work.at(-1);
      if (parentFrame !== undefined) {
        low.set(parentFrame.id, Math.min(low.get(parentFrame.id) ?? 0, low.get(frame.id) ?? 0));
      }
      if (low.get(frame.id) === index.get(frame.id)) {
        for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
          onStack.delete(id);
          component.set(id, components);
          if (id === frame.id) break;
        }
        components++;
      }
    }
  }
  return component;
}

/**
 * The task ids in topological order (parents first; Kahn's algorithm). Tasks on or below a
 * cycle are left out.
 */
export function topologicalOrder(graph: TaskGraph): string[] {
  const pending = new Map(graph.ids.map((id) => [id, graph.parents.get(id)?.length ?? 0]));
  const order = graph.ids.filter((id) => pending.get(id) === 0);
  for (let i = 0; i < order.length; i++) {
    for (const c of graph.children.get(order[i] ?? '') ?? []) {
      const left = (pending.get(c) ?? 0) - 1;
      pending.set(c, left);
      if (left === 0) order.push(c);
    }
  }
  return order;
}
