import { randomUUID } from 'node:crypto';
import { AgolaError, is } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';
import { configIssuesOf, formatIssue } from '../errors.js';
import { parseConfig } from '../parse/parse-config.js';
import type { JsonnetEvaluator } from '../parse/jsonnet.js';
import { whenTargetOf, type ConfigContext } from '../ref.js';
import type { Config, Run } from '../types.js';
import { matchWhen } from '../when.js';
import { computeLevels } from './levels.js';
import { mergeRegistriesAuth, resolveEnvironment } from './resolve.js';
import { runConfigContainer, runConfigStep } from './task.js';
import type { PlannedRun, RunConfigTask } from './types.js';

/** Name of the run created when the config cannot be parsed. */
export const SETUP_ERROR_RUN_NAME = 'Setup Error';

/** Matches a commit message that asks to skip CI, anywhere in the message. */
export const CI_SKIP = /\[ci skip\]/;

/** Options of {@link planRuns}. */
export interface PlanRunsOptions {
  /** The parsed config. */
  config: Config;
  /** The ref and commit the runs are for. */
  context: ConfigContext;
  /** Variables for `from_variable` values (missing ones resolve to ''). @default {} */
  variables?: Readonly<Record<string, string>>;
  /** The commit message; `[ci skip]` in it skips every run. @default '' */
  commitMessage?: string;
  /** The static environment of every run (see {@link staticEnvironment}). @default {} */
  staticEnvironment?: Readonly<Record<string, string>>;
  /** Makes task ids. @default crypto.randomUUID */
  newId?: () => string;
}

/** What {@link planRuns} decided. */
export interface PlanResult {
  /** Runs to create, in config order. */
  runs: PlannedRun[];
  /** Names of the runs whose `when` did not match the ref. */
  skippedRuns: string[];
  /** The commit message contains `[ci skip]`: nothing is created. */
  ciSkip: boolean;
}

/** The run config tasks of one config run. */
export function planRunTasks(
  config: Config,
  run: Run,
  options: Omit<PlanRunsOptions, 'config' | 'commitMessage' | 'staticEnvironment'>,
): Record<string, RunConfigTask> {
  const variables = options.variables ?? {};
  const newId = options.newId ?? randomUUID;
  const target = whenTargetOf(options.context);
  const ids = new Map(run.tasks.map((t) => [t.name, newId()]));
  const parents = new Map(
    run.tasks.map((t) => [
      ids.get(t.name) as string,
      t.depends.map((d) => ids.get(d.task) as string),
    ]),
  );
  const levels = computeLevels(parents);
  const tasks: Record<string, RunConfigTask> = {};
  for (const t of run.tasks) {
    const id = ids.get(t.name) as string;
    const depends: RunConfigTask['depends'] = {};
    for (const d of t.depends) {
      const parentId = ids.get(d.task) as string;
      // As Agola: a dependency without conditions waits for its parent's success.
      const conditions = d.conditions.length > 0 ? [...d.conditions] : ['on_success' as const];
      depends[parentId] = { task_id: parentId, conditions };
    }
    tasks[id] = {
      id,
      name: t.name,
      level: levels.get(id) as number,
      depends,
      runtime: {
        type: 'pod',
        ...(t.runtime.arch ? { arch: t.runtime.arch } : {}),
        containers: t.runtime.containers.map((c) => runConfigContainer(c, variables)),
      },
      environment: resolveEnvironment(t.environment, variables),
      working_dir: t.working_dir,
      shell: t.shell,
      user: t.user ?? '',
      steps: t.steps.map((s) => runConfigStep(s, variables)),
      ignore_failure: t.ignore_failure,
      needs_approval: t.approval,
      skip: !matchWhen(t.when, target),
      docker_registries_auth: mergeRegistriesAuth(
        [config.docker_registries_auth, run.docker_registries_auth, t.docker_registries_auth],
        variables,
      ),
    };
  }
  return tasks;
}

/**
 * Decides the runs to create for a push: none when the commit message contains `[ci skip]`;
 * otherwise one per config run whose `when` matches the ref, each with its run config tasks
 * (ids, levels, depends by id, approval and skip flags, resolved environments, clone steps
 * turned into scripts) and the static environment.
 *
 * @example
 * ```ts
 * const { runs } = planRuns({ config, context, variables, commitMessage, staticEnvironment: env });
 * ```
 */
export function planRuns(options: PlanRunsOptions): PlanResult {
  if (CI_SKIP.test(options.commitMessage ?? '')) return { runs: [], skippedRuns: [], ciSkip: true };
  const target = whenTargetOf(options.context);
  const result: PlanResult = { runs: [], skippedRuns: [], ciSkip: false };
  for (const run of options.config.runs) {
    if (!matchWhen(run.when, target)) {
      result.skippedRuns.push(run.name);
      continue;
    }
    result.runs.push({
      name: run.name,
      setup_errors: [],
      static_environment: { ...(options.staticEnvironment ?? {}) },
      tasks: planRunTasks(options.config, run, options),
    });
  }
  return result;
}

/** The single run Agola creates when the config cannot be parsed: no tasks, only setup errors. */
export function setupErrorRun(
  err: unknown,
  staticEnv: Readonly<Record<string, string>> = {},
): PlannedRun {
  const issues = configIssuesOf(err);
  const setupErrors = issues
    ? issues.map(formatIssue)
    : [err instanceof Error ? err.message : String(err)];
  return {
    name: SETUP_ERROR_RUN_NAME,
    setup_errors: setupErrors,
    static_environment: { ...staticEnv },
    tasks: {},
  };
}

/** Options of {@link planRunsFromFile}. */
export interface PlanRunsFromFileOptions extends Omit<PlanRunsOptions, 'config'> {
  /** The config file's content. */
  data: string | Uint8Array;
  /** The config file's path (its extension gives the format). */
  path: string;
  /** How to evaluate jsonnet (default: the `jsonnet` executable). */
  jsonnet?: JsonnetEvaluator;
  /** Cancels a jsonnet evaluation. */
  signal?: AbortSignal;
}

/** Codes of the errors that mean "the user's config is broken" rather than "the server is broken". */
const USER_ERROR_CODES: readonly string[] = [
  RunconfigErrorCodes.Parse,
  RunconfigErrorCodes.Invalid,
  RunconfigErrorCodes.TooLarge,
  RunconfigErrorCodes.Jsonnet,
  RunconfigErrorCodes.StarlarkUnsupported,
  RunconfigErrorCodes.UnknownFormat,
];

/**
 * Parses a config file and plans its runs, as the gateway does on a push. A config that cannot be parsed or is invalid yields a single
 * "Setup Error" run carrying the errors, like Agola (even when the commit message says `[ci skip]`, which is only
 * looked at once the config parsed).
 *
 * @throws AgolaError `ERR_RUNCONFIG_JSONNET_UNAVAILABLE` when jsonnet cannot run at all (a
 * server problem, not the user's), or any unexpected error.
 */
export async function planRunsFromFile(options: PlanRunsFromFileOptions): Promise<PlanResult> {
  let config: Config;
  try {
    config = await parseConfig(options.data, {
      path: options.path,
      context: options.context,
      ...(options.jsonnet ? { jsonnet: options.jsonnet } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof AgolaError && USER_ERROR_CODES.some((code) => is(err, code))) {
      return {
        runs: [setupErrorRun(err, options.staticEnvironment)],
        skippedRuns: [],
        ciSkip: false,
      };
    }
    throw err;
  }
  return planRuns({ ...options, config });
}
