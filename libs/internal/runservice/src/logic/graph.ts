import type { RunConfigTask } from '@agola-ts/types';

/** Run config tasks by id, as in a run config or a run create request. */
export type RunConfigTasks = Readonly<Record<string, RunConfigTask>>;

/** The task stored under `id`, only through an own property (ids come from requests). */
export function taskById<T>(tasks: Readonly<Record<string, T>>, id: string): T | undefined {
  return Object.hasOwn(tasks, id) ? tasks[id] : undefined;
}

/**
 * The direct parents of `task`: the tasks of `tasks` that `task.depends` names. A depend on
 * an id that is not in `tasks` is not a parent (as in Agola; {@link checkRunConfigTasks}
 * reports it at creation).
 */
export function getParents(tasks: RunConfigTasks, task: RunConfigTask): RunConfigTask[] {
  const depends = task.depends ?? {};
  const parents: RunConfigTask[] = [];
  for (const [id, t] of Object.entries(tasks)) {
    if (Object.hasOwn(depends, id)) parents.push(t);
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
