import {
  isRunPhaseFinished,
  type Run,
  type RunConfig,
  type RunConfigStep,
  type RunConfigTask,
  type RunConfigTaskDepend,
  type RunTask,
} from '@agola-ts/types';

/** A task as listed in a gateway run (Agola's `RunResponseTask`). */
export interface GatewayRunResponseTask {
  id: string;
  name: string;
  status: RunTask['status'];
  level: number;
  depends: Record<string, RunConfigTaskDepend>;
  waiting_approval: boolean;
  approved: boolean;
  approval_annotations: Record<string, string>;
  start_time: string | null;
  end_time: string | null;
}

/** A run as the gateway answers it (Agola's `RunResponse`): addressed by its number, never its id. */
export interface GatewayRunResponse {
  number: number;
  name: string;
  annotations: Record<string, string>;
  phase: Run['phase'];
  result: Run['result'];
  setup_errors: string[];
  stopping: boolean;
  tasks: Record<string, GatewayRunResponseTask>;
  tasks_waiting_approval: string[];
  enqueue_time: string | null;
  start_time: string | null;
  end_time: string | null;
  can_restart_from_scratch: boolean;
  can_restart_from_failed_tasks: boolean;
}

/** A run in a list (Agola's `RunsResponse`). */
export type GatewayRunsResponse = Pick<
  GatewayRunResponse,
  | 'number'
  | 'name'
  | 'annotations'
  | 'phase'
  | 'result'
  | 'tasks_waiting_approval'
  | 'enqueue_time'
  | 'start_time'
  | 'end_time'
>;

/** One step of a gateway run task (Agola's `RunTaskResponseStep`). */
export interface GatewayRunTaskResponseStep {
  phase: string;
  type: string;
  name: string;
  command?: string;
  shell?: string;
  exit_status: number | null;
  start_time: string | null;
  end_time: string | null;
  log_archived: boolean;
}

/** A run task with its steps (Agola's `RunTaskResponse`). */
export interface GatewayRunTaskResponse {
  id: string;
  name: string;
  status: RunTask['status'];
  waiting_approval: boolean;
  approved: boolean;
  approval_annotations: Record<string, string>;
  setup_step: { phase: string; name: string; start_time: string | null; end_time: string | null };
  steps: GatewayRunTaskResponseStep[];
  start_time: string | null;
  end_time: string | null;
}

const time = (t: string | undefined) => t ?? null;

/** Ids of the run's tasks that wait for an approval. */
export function tasksWaitingApproval(run: Run): string[] {
  return Object.values(run.tasks)
    .filter((t) => t.waiting_approval === true)
    .map((t) => t.id);
}

/** Agola's `CanRestartFromScratch`: a finished run without setup errors. */
export function canRestartFromScratch(run: Run): boolean {
  return run.phase !== 'setuperror' && isRunPhaseFinished(run.phase);
}

/** Agola's `CanRestartFromFailedTasks`: also a result other than success. */
export function canRestartFromFailedTasks(run: Run): boolean {
  return canRestartFromScratch(run) && run.result !== 'success';
}

function taskConfig(rc: RunConfig, id: string): RunConfigTask | undefined {
  return Object.hasOwn(rc.tasks, id) ? rc.tasks[id] : undefined;
}

/** The gateway's view of a run and its config. */
export function runResponse(run: Run, rc: RunConfig): GatewayRunResponse {
  const tasks: Record<string, GatewayRunResponseTask> = {};
  for (const rt of Object.values(run.tasks)) {
    const rct = taskConfig(rc, rt.id);
    Object.defineProperty(tasks, rt.id, {
      enumerable: true,
      writable: true,
      configurable: true,
      value: {
        id: rt.id,
        name: rct?.name ?? '',
        status: rt.status,
        level: rct?.level ?? 0,
        depends: rct?.depends ?? {},
        waiting_approval: rt.waiting_approval === true,
        approved: rt.approved === true,
        approval_annotations: rt.annotations ?? {},
        start_time: time(rt.start_time),
        end_time: time(rt.end_time),
      } satisfies GatewayRunResponseTask,
    });
  }
  return {
    number: run.counter,
    name: run.name,
    annotations: run.annotations ?? {},
    phase: run.phase,
    result: run.result,
    setup_errors: rc.setup_errors ?? [],
    stopping: run.stop === true,
    tasks,
    tasks_waiting_approval: tasksWaitingApproval(run),
    enqueue_time: time(run.enqueue_time),
    start_time: time(run.start_time),
    end_time: time(run.end_time),
    can_restart_from_scratch: canRestartFromScratch(run),
    can_restart_from_failed_tasks: canRestartFromFailedTasks(run),
  };
}

/** The gateway's view of a run in a list. */
export function runsResponse(run: Run): GatewayRunsResponse {
  return {
    number: run.counter,
    name: run.name,
    annotations: run.annotations ?? {},
    phase: run.phase,
    result: run.result,
    tasks_waiting_approval: tasksWaitingApproval(run),
    enqueue_time: time(run.enqueue_time),
    start_time: time(run.start_time),
    end_time: time(run.end_time),
  };
}

function stepView(
  s: RunConfigStep | undefined,
  taskShell: string | undefined,
): Pick<GatewayRunTaskResponseStep, 'type' | 'name' | 'command' | 'shell'> {
  switch (s?.type) {
    case 'run':
      return {
        type: 'run',
        name: s.name ?? '',
        command: s.command ?? '',
        shell: s.shell || taskShell || '',
      };
    case 'save_to_workspace':
      return { type: s.type, name: 'save to workspace' };
    case 'restore_workspace':
      return { type: s.type, name: 'restore workspace' };
    case 'save_cache':
      return { type: s.type, name: 'save cache' };
    case 'restore_cache':
      return { type: s.type, name: 'restore cache' };
    default:
      return { type: '', name: '' };
  }
}

/** The gateway's view of one run task with its steps. */
export function runTaskResponse(
  rt: RunTask,
  rct: RunConfigTask | undefined,
): GatewayRunTaskResponse {
  return {
    id: rt.id,
    name: rct?.name ?? '',
    status: rt.status,
    waiting_approval: rt.waiting_approval === true,
    approved: rt.approved === true,
    approval_annotations: rt.annotations ?? {},
    setup_step: {
      phase: rt.setup_step.phase,
      name: 'Task setup',
      start_time: time(rt.setup_step.start_time),
      end_time: time(rt.setup_step.end_time),
    },
    steps: rt.steps.map((st, i) => ({
      phase: st.phase,
      ...stepView(rct?.steps?.[i], rct?.shell),
      exit_status: st.exit_status,
      start_time: time(st.start_time),
      end_time: time(st.end_time),
      log_archived: st.log_phase === 'finished',
    })),
    start_time: time(rt.start_time),
    end_time: time(rt.end_time),
  };
}
