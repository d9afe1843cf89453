import type { RunsResponse } from '@agola-ts/gateway-client';

/** What a run's badge says: its phase, or its result once finished. */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'success'
  | 'failed'
  | 'stopped'
  | 'cancelled'
  | 'setuperror'
  | 'unknown';

/** The status shown for a run (a running run with a task waiting for approval is `waiting`). */
export function runStatus(
  run: Pick<RunsResponse, 'phase' | 'result' | 'tasks_waiting_approval'>,
): RunStatus {
  switch (run.phase) {
    case 'setuperror':
      return 'setuperror';
    case 'queued':
      return 'queued';
    case 'cancelled':
      return 'cancelled';
    case 'running':
      return (run.tasks_waiting_approval ?? []).length > 0 ? 'waiting' : 'running';
    case 'finished':
      return run.result === 'success' || run.result === 'failed' || run.result === 'stopped'
        ? run.result
        : 'unknown';
    default:
      return 'unknown';
  }
}

/** The words for a status. */
export const STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting for approval',
  success: 'success',
  failed: 'failed',
  stopped: 'stopped',
  cancelled: 'cancelled',
  setuperror: 'setup error',
  unknown: 'unknown',
};

/** True while a run may still change (pages keep polling it). */
export function runIsActive(run: Pick<RunsResponse, 'phase'>): boolean {
  return run.phase === 'queued' || run.phase === 'running';
}

/** What a run was made from: `branch main`, `tag v1`, `PR #3`, or the ref. */
export function runSource(annotations: Record<string, string> | undefined): string {
  const a = annotations ?? {};
  if (a['pull_request_id']) return `PR #${a['pull_request_id']}`;
  if (a['branch']) return `branch ${a['branch']}`;
  if (a['tag']) return `tag ${a['tag']}`;
  return a['ref'] ?? '';
}

/** "3 min ago", "2 h ago", or the date. */
export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** "1 min 5 s" between two times (to now while running). */
export function duration(
  start: string | null | undefined,
  end: string | null | undefined,
  now = Date.now(),
): string {
  if (!start) return '';
  const s0 = Date.parse(start);
  const s1 = end ? Date.parse(end) : now;
  if (Number.isNaN(s0) || Number.isNaN(s1)) return '';
  const s = Math.max(0, Math.round((s1 - s0) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
