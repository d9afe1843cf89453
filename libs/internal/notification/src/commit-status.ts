import type { CommitStatus } from '@agola-ts/gitsources';
import { newError } from '@agola-ts/errors';
import type { RunPhase, RunResult } from '@agola-ts/types';
import { NotificationErrorCodes } from './codes.js';

/**
 * The commit status of a run's phase and result, as Agola's notification service computes
 * it: setuperror or cancelled → `error`; running with an unknown result → `pending`;
 * finished → `success`, or `failed` for failed and stopped; anything else → none.
 *
 * @example
 * ```ts
 * commitStatusOf('running', 'unknown'); // 'pending'
 * commitStatusOf('running', 'failed'); // undefined (the run is still running)
 * ```
 */
export function commitStatusOf(phase: RunPhase, result: RunResult): CommitStatus | undefined {
  if (phase === 'setuperror' || phase === 'cancelled') return 'error';
  if (phase === 'running' && result === 'unknown') return 'pending';
  if (phase === 'finished') {
    if (result === 'success') return 'success';
    if (result === 'failed' || result === 'stopped') return 'failed';
  }
  return undefined;
}

/** Agola's description of a commit status. */
export function statusDescription(status: CommitStatus): string {
  switch (status) {
    case 'pending':
      return 'The run is pending';
    case 'success':
      return 'The run finished successfully';
    case 'error':
      return 'The run encountered an error';
    case 'failed':
      return 'The run failed';
  }
}

/**
 * The web UI link of a project run: `<webExposedURL>/run?projectref=<projectID>&runnumber=<n>`.
 *
 * @example
 * ```ts
 * webRunURL('https://agola.example.com', '0b5f...', 7); // 'https://agola.example.com/run?projectref=0b5f...&runnumber=7'
 * ```
 */
export function webRunURL(webExposedURL: string, projectId: string, runNumber: number): string {
  const u = new URL(`${webExposedURL}/run`);
  u.search = new URLSearchParams({
    projectref: projectId,
    runnumber: String(runNumber),
  }).toString();
  return u.toString();
}

/** The commit status context: `<agolaID>/<projectName>/<runName>`. */
export function statusContext(agolaId: string, projectName: string, runName: string): string {
  return `${agolaId}/${projectName}/${runName}`;
}

/** Who a run belongs to, from its group (`/project/<id>/...` or `/user/<id>/...`). */
export interface RunOwner {
  type: 'project' | 'user';
  id: string;
}

/**
 * The owner of a run group (Agola's `GroupTypeIDFromRunGroup`).
 *
 * @throws `ERR_NOTIFICATION_BAD_RUN_GROUP` for any other group.
 */
export function runOwnerOf(group: string): RunOwner {
  const parts = group.split('/');
  const type = parts[1];
  const id = parts[2];
  if (parts[0] !== '' || (type !== 'project' && type !== 'user') || !id) {
    throw newError(`run group ${JSON.stringify(group.slice(0, 200))} has no project or user`, {
      code: NotificationErrorCodes.BadRunGroup,
    });
  }
  return { type, id };
}

/**
 * The URL as it may be logged or shown: scheme, host and path; no credentials, query or
 * fragment.
 */
export function maskURL(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
