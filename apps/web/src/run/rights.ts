/**
 * Which run actions the signed-in user may see, from what the API tells the web UI (the
 * gateway decides; this only hides buttons that would answer 403). Agola's rule
 * (`CanDoRunActions`): the owner of the project: the user itself for a project under
 * `user/<name>/`, an owner of the org for a project under `org/<name>/`; for direct runs the
 * user itself; the admin always.
 */

/** Who is signed in, as the web UI knows it. */
export interface Viewer {
  /** `null` when nobody is signed in. */
  user: { id: string; username: string } | null;
  /** The user's orgs with the role (`GET /user/orgs`). */
  orgs: { Organization: { id: string; name: string }; Role: string }[];
  /** The admin token or an admin user. */
  admin?: boolean;
}

/** Whose runs: a project (by its path, `org/acme/app` or `user/alice/app`) or a user's direct runs. */
export type RunsOwnerRef =
  { kind: 'project'; projectPath: string } | { kind: 'user'; userRef: string };

/** Whether the viewer may restart, stop or cancel runs of the owner and approve their tasks. */
export function canDoRunActions(viewer: Viewer, owner: RunsOwnerRef): boolean {
  if (viewer.admin) return true;
  const user = viewer.user;
  if (!user) return false;
  if (owner.kind === 'user') return owner.userRef === user.id || owner.userRef === user.username;
  const [kind, name] = owner.projectPath.split('/');
  if (!name) return false;
  if (kind === 'user') return name === user.username;
  if (kind === 'org') {
    return viewer.orgs.some((o) => o.Organization.name === name && o.Role === 'owner');
  }
  return false;
}

/** The run actions to offer, from the rights and the run's own flags. */
export interface RunActions {
  restartFromScratch: boolean;
  restartFromFailed: boolean;
  stop: boolean;
  cancel: boolean;
  /** The ids of the tasks that can be approved. */
  approve: string[];
}

/** The run fields the actions depend on (a gateway `RunResponse` fits). */
export interface RunActionState {
  phase: string;
  stopping?: boolean;
  can_restart_from_scratch: boolean;
  can_restart_from_failed_tasks: boolean;
  tasks_waiting_approval?: string[] | null;
  tasks?: Record<string, { waiting_approval?: boolean; approved?: boolean }>;
}

/**
 * What to show: nothing without rights; restarts as the API allows them; stop while the run
 * is running and not already stopping; cancel while it is queued; approval of the tasks that
 * wait for one (and are not approved yet) until the run finishes.
 */
export function runActions(allowed: boolean, run: RunActionState): RunActions {
  if (!allowed) {
    return {
      restartFromScratch: false,
      restartFromFailed: false,
      stop: false,
      cancel: false,
      approve: [],
    };
  }
  const running = run.phase === 'running';
  const approve = !isRunFinished(run.phase)
    ? [...(run.tasks_waiting_approval ?? [])].filter((id) => {
        const t = run.tasks && Object.hasOwn(run.tasks, id) ? run.tasks[id] : undefined;
        return !t || (t.waiting_approval !== false && !t.approved);
      })
    : [];
  return {
    restartFromScratch: run.can_restart_from_scratch,
    restartFromFailed: run.can_restart_from_failed_tasks,
    stop: running && !run.stopping,
    cancel: run.phase === 'queued',
    approve,
  };
}

/** A run phase after which nothing changes (no more polling). */
export function isRunFinished(phase: string): boolean {
  return phase === 'finished' || phase === 'cancelled' || phase === 'setuperror';
}
