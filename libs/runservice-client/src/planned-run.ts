import type { PlannedRun } from '@agola-ts/runconfig';
import type { RunConfigTask, RunCreateRequest } from '@agola-ts/types';

/** What a run create request needs besides the planned run. */
export interface PlannedRunRequestOptions {
  /**
   * The run group, absolute: `/project/<projectID>/branch/<urlescaped branch>`,
   * `/project/<id>/tag/<tag>`, `/project/<id>/pr/<prID>` or `/user/<userID>/...`.
   */
  group: string;
  /** Environment of every task (e.g. resolved variables). */
  environment?: Record<string, string>;
  /** Run annotations (commit sha, ref, message...). */
  annotations?: Record<string, string>;
  /** Cache group (the project or user id by default). */
  cacheGroup?: string;
}

/**
 * Turns a run planned by `@agola-ts/runconfig` into the body of `POST /runs`: a run with tasks,
 * or, when planning produced setup errors, a run that carries them (it never runs). A depend
 * without conditions gets `on_success`, as Agola's run config generation writes it.
 *
 * @example
 * ```ts
 * const [planned] = planRuns(config, { refType: 'branch', ... });
 * await rs.createRun(plannedRunToCreateRequest(planned, { group: `/project/${p.id}/branch/main` }));
 * ```
 */
export function plannedRunToCreateRequest(
  planned: PlannedRun,
  options: PlannedRunRequestOptions,
): RunCreateRequest {
  const hasErrors = planned.setup_errors.length > 0;
  const tasks: Record<string, RunConfigTask> = {};
  if (!hasErrors) {
    for (const [id, t] of Object.entries(planned.tasks)) {
      // the planner's task shape is the runservice's; copy so the request owns its data
      const task = structuredClone(t) as unknown as RunConfigTask;
      // a depend without conditions means on_success: Agola's run config generation writes it
      // out, and the runservice matches only the conditions it is given
      for (const d of Object.values(task.depends ?? {})) {
        if (!d.conditions || d.conditions.length === 0) d.conditions = ['on_success'];
      }
      Object.defineProperty(tasks, id, {
        value: task,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return {
    name: planned.name,
    group: options.group,
    run_config_tasks: hasErrors ? null : tasks,
    setup_errors: hasErrors ? [...planned.setup_errors] : null,
    static_environment: { ...planned.static_environment },
    environment: { ...options.environment },
    annotations: { ...options.annotations },
    cache_group: options.cacheGroup ?? '',
  };
}
