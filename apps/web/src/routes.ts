import type { RouteLocationNormalizedLoaded } from 'vue-router';
import type { RunOwner } from '@agola-ts/gateway-client';

/**
 * Links between pages, built from API paths (`org/acme/group/p1`), and the reverse:
 * the API refs a page's route names. Pages link with these, never by hand.
 *
 * URL scheme (as Agola's web UI):
 * - `/org/acme`, `/user/alice`: an owner (its root project group)
 * - `/org/acme/projectgroups/a/b.pg`: a project group; `+ /settings`
 * - `/org/acme/projects/a/p1.proj`: a project's runs; `+ /settings`, `+ /runs/12`,
 *   `+ /runs/12/tasks/<taskid>`
 * - `/user/alice/runs/3`, `/user/alice/runs/3/tasks/<taskid>`: direct runs
 * - `/run?projectref=<id or path>&runnumber=N`: Agola's run link, redirected to the run
 */

const enc = encodeURIComponent;

function splitPath(path: string): { kind: string; owner: string; rest: string[] } {
  const [kind = '', owner = '', ...rest] = path.split('/');
  return { kind, owner, rest };
}

/** The page of an owner (`org/acme` or `user/alice`). */
export function ownerLink(kind: 'org' | 'user', name: string): string {
  return `/${kind}/${enc(name)}`;
}

/** The page of a project group from its path (`org/acme/a/b`); the root group is the owner's page. */
export function projectGroupLink(path: string, page: '' | 'settings' = ''): string {
  const { kind, owner, rest } = splitPath(path);
  if (rest.length === 0) return `/${kind}/${enc(owner)}${page ? `/${page}` : ''}`;
  return `/${kind}/${enc(owner)}/projectgroups/${rest.map(enc).join('/')}.pg${page ? `/${page}` : ''}`;
}

/** The page of a project from its path (`org/acme/a/p1`): its runs, or its settings. */
export function projectLink(path: string, page: '' | 'settings' = ''): string {
  const { kind, owner, rest } = splitPath(path);
  return `/${kind}/${enc(owner)}/projects/${rest.map(enc).join('/')}.proj${page ? `/${page}` : ''}`;
}

/** The page of a run: of a project (its path) or a user's direct run. */
export function runLink(owner: RunOwner & { path?: string }, runNumber: number): string {
  if (owner.kind === 'user') return `/user/${enc(owner.ref)}/runs/${runNumber}`;
  return `${projectLink(owner.path ?? owner.ref)}/runs/${runNumber}`;
}

/** The page of a task of a run. */
export function taskLink(
  owner: RunOwner & { path?: string },
  runNumber: number,
  taskId: string,
): string {
  return `${runLink(owner, runNumber)}/tasks/${enc(taskId)}`;
}

function param(route: RouteLocationNormalizedLoaded, name: string): string {
  const v = route.params[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

/** The API path of the owner a route names (`org/acme`). */
export function ownerPathOf(route: RouteLocationNormalizedLoaded): string {
  return `${param(route, 'ownertype')}/${param(route, 'ownername')}`;
}

/** The API path of the project or group a route names (`org/acme/a/p1`). */
export function itemPathOf(route: RouteLocationNormalizedLoaded, name = 'path'): string {
  const p = param(route, name);
  return p ? `${ownerPathOf(route)}/${p}` : ownerPathOf(route);
}

/** What a run or task page shows: whose run, its number and the task. */
export interface RunRouteParams {
  /** The run owner for the API: the project path, or the user name for direct runs. */
  owner: RunOwner;
  runNumber: number;
  /** The task id on a task page. */
  taskId: string | undefined;
}

/** The run a run or task route names (for `views/RunView.vue` and `views/TaskView.vue`). */
export function runParamsOf(route: RouteLocationNormalizedLoaded): RunRouteParams {
  const taskId = param(route, 'taskid') || undefined;
  const runNumber = Number(param(route, 'runnumber'));
  const owner: RunOwner =
    route.meta['directRun'] === true
      ? { kind: 'user', ref: param(route, 'ownername') }
      : { kind: 'project', ref: itemPathOf(route) };
  return { owner, runNumber, taskId };
}
