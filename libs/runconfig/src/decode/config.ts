import type { Config, Run, Task } from '../types.js';
import type { PathSegment } from '../path.js';
import { checkTaskGraph } from '../graph.js';
import { decodeDepends } from './depends.js';
import { decodeRegistriesAuth } from './registry-auth.js';
import { decodeRuntime } from './runtime.js';
import { decodeStep } from './steps.js';
import { decodeEnvironment } from './value.js';
import { decodeWhen } from './when.js';
import type { Reader } from './reader.js';

/**
 * The keys of each map, as in Agola v0.7.1's config structs. At the top level `version` is
 * accepted too (and ignored): Agola's published examples start with `version: v0`, and Agola
 * itself ignores the key, so such files must keep working.
 */
const CONFIG_KEYS = ['version', 'runs', 'docker_registries_auth'] as const;
const RUN_KEYS = ['name', 'tasks', 'when', 'docker_registries_auth'] as const;
const TASK_KEYS = [
  'name',
  'runtime',
  'environment',
  'working_dir',
  'shell',
  'user',
  'steps',
  'depends',
  'ignore_failure',
  'approval',
  'when',
  'docker_registries_auth',
] as const;

/** Longest run or task name. */
export const MAX_NAME_LENGTH = 100;
/** Default working directory of a task. */
export const DEFAULT_WORKING_DIR = '~/project';
/** Default shell of a task. */
export const DEFAULT_SHELL = '/bin/sh -e';

function decodeName(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
  seen: Set<string>,
  what: 'run' | 'task',
): string | undefined {
  const name = r.string(raw, [...path, 'name']);
  if (name === undefined || name === '') {
    if (name === '' || raw === undefined || raw === null)
      r.fail([...path, 'name'], 'name is required');
    return undefined;
  }
  if ([...name].length > MAX_NAME_LENGTH) {
    r.fail([...path, 'name'], `name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (seen.has(name)) r.fail([...path, 'name'], `duplicate ${what} name ${JSON.stringify(name)}`);
  seen.add(name);
  return name;
}

/**
 * Decodes a task. A task without a valid name is still decoded whole, so every other
 * problem in it is reported too; `named` tells whether it can take part in the graph.
 */
function decodeTask(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
  seen: Set<string>,
): { task: Task; named: boolean } | undefined {
  const map = r.map(raw, path);
  if (!map) {
    if (raw === null || raw === undefined) r.fail(path, 'expected a map, got null');
    return undefined;
  }
  r.knownKeys(map, path, TASK_KEYS);
  const name = decodeName(r, map['name'], path, seen, 'task');
  const runtime = decodeRuntime(r, map['runtime'], [...path, 'runtime']);
  const task: Task = {
    name: name ?? '',
    runtime: runtime ?? { type: 'pod', containers: [] },
    environment: decodeEnvironment(r, map['environment'], [...path, 'environment']),
    working_dir: r.string(map['working_dir'], [...path, 'working_dir']) || DEFAULT_WORKING_DIR,
    shell: r.string(map['shell'], [...path, 'shell']) || DEFAULT_SHELL,
    steps: [],
    depends: decodeDepends(r, map['depends'], [...path, 'depends']),
    ignore_failure: r.bool(map['ignore_failure'], [...path, 'ignore_failure']),
    approval: r.bool(map['approval'], [...path, 'approval']),
    docker_registries_auth: decodeRegistriesAuth(r, map['docker_registries_auth'], [
      ...path,
      'docker_registries_auth',
    ]),
  };
  const user = r.string(map['user'], [...path, 'user']);
  if (user) task.user = user;
  const when = decodeWhen(r, map['when'], [...path, 'when']);
  if (when) task.when = when;
  (r.list(map['steps'], [...path, 'steps']) ?? []).forEach((s, i) => {
    const step = decodeStep(r, s, [...path, 'steps', i]);
    if (step) task.steps.push(step);
  });
  return { task, named: name !== undefined };
}

function decodeRun(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
  seen: Set<string>,
): Run | undefined {
  const map = r.map(raw, path);
  if (!map) {
    if (raw === null || raw === undefined) r.fail(path, 'expected a map, got null');
    return undefined;
  }
  r.knownKeys(map, path, RUN_KEYS);
  const name = decodeName(r, map['name'], path, seen, 'run');
  const run: Run = {
    name: name ?? '',
    tasks: [],
    docker_registries_auth: decodeRegistriesAuth(r, map['docker_registries_auth'], [
      ...path,
      'docker_registries_auth',
    ]),
  };
  const when = decodeWhen(r, map['when'], [...path, 'when']);
  if (when) run.when = when;
  const tasks = r.list(map['tasks'], [...path, 'tasks']) ?? [];
  if (tasks.length === 0) r.fail([...path, 'tasks'], 'at least one task is required');
  const taskNames = new Set<string>();
  const taskPaths: PathSegment[][] = [];
  const unnamed: { task: Task; path: PathSegment[] }[] = [];
  tasks.forEach((t, i) => {
    const decoded = decodeTask(r, t, [...path, 'tasks', i], taskNames);
    if (!decoded) return;
    if (decoded.named) {
      run.tasks.push(decoded.task);
      taskPaths.push([...path, 'tasks', i]);
    } else {
      unnamed.push({ task: decoded.task, path: [...path, 'tasks', i] });
    }
  });
  checkTaskGraph(r, run.tasks, taskPaths, unnamed);
  return name === undefined ? undefined : run;
}

/**
 * Decodes and validates a whole document (the JSON value of the file), applying every short
 * form and default. Issues are collected in `r`; the returned config is complete only when
 * there are none.
 */
export function decodeConfig(r: Reader, raw: unknown): Config {
  const config: Config = { runs: [], docker_registries_auth: {} };
  const map = r.map(raw, []);
  if (!map) {
    if (raw === null || raw === undefined) r.fail([], 'the config is empty');
    return config;
  }
  // Top-level keys starting with "." are free for YAML anchors (`.common: &common`).
  const known = Object.keys(map).filter((k) => !k.startsWith('.'));
  r.knownKeys(Object.fromEntries(known.map((k) => [k, true])), [], CONFIG_KEYS);
  r.string(map['version'], ['version']);
  config.docker_registries_auth = decodeRegistriesAuth(r, map['docker_registries_auth'], [
    'docker_registries_auth',
  ]);
  const runs = r.list(map['runs'], ['runs']) ?? [];
  if (runs.length === 0) r.fail(['runs'], 'at least one run is required');
  const names = new Set<string>();
  runs.forEach((run, i) => {
    const decoded = decodeRun(r, run, ['runs', i], names);
    if (decoded) config.runs.push(decoded);
  });
  return config;
}
