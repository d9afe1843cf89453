/**
 * Executor choice (reference §7.5, Agola's `chooseExecutor`). Pure: the executors, their task
 * counts and the time are passed in.
 */
import type { Executor, RunConfigTask } from '@agola-ts/types';

/** An executor whose last heartbeat is older than this is not alive (60 s, as Agola). */
export const EXECUTOR_NOT_ALIVE_INTERVAL_MS = 60_000;

/** What {@link chooseExecutor} needs besides the executors. */
export interface ChooseExecutorOptions {
  /** The task to place. */
  runConfigTask: RunConfigTask;
  /**
   * Executor id → executor tasks in etcd assigned to it. When placing several tasks in a row,
   * count each placed task before the next choice, so the limit holds exactly.
   */
  executorTaskCounts: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
  /** Current time, for liveness. */
  now: Date;
}

/** Whether an executor sent a heartbeat in the last 60 s (an unreadable time is not alive). */
export function isExecutorAlive(executor: Executor, now: Date): boolean {
  const last = Date.parse(executor.last_status_update_time);
  if (Number.isNaN(last)) return false;
  return last + EXECUTOR_NOT_ALIVE_INTERVAL_MS >= now.getTime();
}

function countOf(
  counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  id: string,
): number {
  if (counts instanceof Map) return (counts as ReadonlyMap<string, number>).get(id) ?? 0;
  const record = counts as Readonly<Record<string, number>>;
  return Object.hasOwn(record, id) ? (record[id] ?? 0) : 0;
}

/**
 * The first executor, in the given order, that can take the task, or `undefined`: alive
 * ({@link isExecutorAlive}); allowing privileged containers when a container of the task is
 * privileged; offering the task's arch when it has one; and, when its `active_tasks_limit` is
 * not 0, with max(its executor tasks in etcd, its reported `active_tasks`) below the limit.
 *
 * @example
 * ```ts
 * const e = chooseExecutor(executors, { runConfigTask, executorTaskCounts, now: new Date() });
 * if (e === undefined) log.warn('cannot choose an executor'); // retried on a later pass
 * ```
 */
export function chooseExecutor(
  executors: readonly Executor[],
  options: ChooseExecutorOptions,
): Executor | undefined {
  const runtime = options.runConfigTask.runtime;
  const needsPrivileged = (runtime?.containers ?? []).some((c) => c.privileged);
  const arch = runtime?.arch;
  for (const e of executors) {
    if (!isExecutorAlive(e, options.now)) continue;
    if (needsPrivileged && e.allow_privileged_containers !== true) continue;
    if (arch !== undefined && (arch as string) !== '' && !(e.archs ?? []).includes(arch)) continue;
    const limit = e.active_tasks_limit ?? 0;
    if (limit !== 0) {
      const active = Math.max(countOf(options.executorTaskCounts, e.id), e.active_tasks ?? 0);
      if (active >= limit) continue;
    }
    return e;
  }
  return undefined;
}
