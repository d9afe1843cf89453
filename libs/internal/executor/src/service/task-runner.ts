import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compactText } from '@agola-ts/errors';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type {
  ExecutorTaskPhase,
  ExecutorTaskStatus,
  ExecutorTaskStepStatus,
  ExecutorTaskWithData,
  RunConfigStep,
} from '@agola-ts/types';
import type { ContainerConfig, Driver, DriverLogger, Pod, RegistryAuth } from '../driver/types.js';
import { createSecretMasker, type SecretMasker } from '../masking.js';
import { prepareWorkingDir, type ArtifactStore, type StepContext } from '../steps/context.js';
import {
  restoreCache,
  restoreWorkspace,
  runStep,
  saveCache,
  saveToWorkspace,
} from '../steps/steps.js';
import { LogFile, type LogWatchers } from './log-file.js';
import { secretEnvNames, secretValues } from './secrets.js';

/** The files of a task in the executor's data dir (Agola's layout). */
export function taskPaths(tasksDir: string, taskId: string) {
  const dir = join(tasksDir, taskId);
  return {
    dir,
    setupLog: join(dir, 'logs', 'setup.log'),
    stepLog: (n: number) => join(dir, 'logs', 'steps', `${n}.log`),
    archive: (n: number) => join(dir, 'archives', `${n}.tar`),
    tmp: join(dir, 'tmp'),
  };
}

const now = () => new Date().toISOString();

/** Whether a step phase or task phase is final. */
export function isFinal(phase: ExecutorTaskPhase): boolean {
  return phase !== 'notstarted' && phase !== 'running';
}

/** What a task runner needs from its executor. */
export interface TaskRunnerDeps {
  driver: Driver;
  client: RunserviceClient;
  store: (taskId: string) => ArtifactStore;
  tasksDir: string;
  watchers: LogWatchers;
  allowPrivileged: boolean;
  logger: DriverLogger;
  /** Sends the current status (serialised per task by the caller). */
  send: (task: RunningTask) => void;
  /** Called once the task's final status is set, before its pod is removed. */
  finished: (task: RunningTask) => void;
}

/** A task this executor runs (or ran and has not reported the end of yet). */
export class RunningTask {
  readonly id: string;
  status: ExecutorTaskStatus;
  /** Set once a stop was requested (`spec.stop`): the task ends `stopped`. */
  stopRequested = false;
  /** True once the task ended (its final status is set). */
  finished = false;
  pod: Pod | undefined;
  readonly abort = new AbortController();
  done: Promise<void> = Promise.resolve();

  constructor(public et: ExecutorTaskWithData) {
    this.id = et.id;
    const steps = (et.spec.steps ?? []).map((): ExecutorTaskStepStatus => ({
      phase: 'notstarted',
    }));
    this.status = { phase: 'notstarted', setup_step: { phase: 'notstarted' }, steps };
  }

  /** Stops the task: kills what runs in its pod; the task ends `stopped`. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.abort.abort();
    void this.pod?.stop().catch(() => undefined);
  }

  /** Whether the log of the setup (`step` undefined) or of a step is complete. */
  logFinished(step: number | undefined): boolean {
    if (this.finished) return true;
    const s = step === undefined ? this.status.setup_step : this.status.steps[step];
    return s === undefined || isFinal(s.phase);
  }
}

function containersOf(et: ExecutorTaskWithData): ContainerConfig[] {
  return (et.spec.containers ?? []).map((c) => ({
    image: c.image,
    ...(c.entrypoint ? { entrypoint: c.entrypoint.split(' ').filter(Boolean) } : {}),
    env: { ...c.environment },
    ...(c.user ? { user: c.user } : {}),
    privileged: c.privileged,
    volumes: (c.volumes ?? []).flatMap((v) =>
      v.tmpfs ? [{ path: v.path, tmpfs: { sizeBytes: v.tmpfs.size } }] : [],
    ),
  }));
}

function registryAuthOf(et: ExecutorTaskWithData): Record<string, RegistryAuth> {
  const out: Record<string, RegistryAuth> = {};
  for (const [host, a] of Object.entries(et.spec.docker_registries_auth ?? {})) {
    out[host] =
      a.type === 'encodedauth' ? { auth: a.auth } : { username: a.username, password: a.password };
  }
  return out;
}

/** A masked log file: what is written to `log` reaches the file with secrets masked. */
async function openLog(path: string, secrets: string[], watchers: LogWatchers) {
  const masker: SecretMasker = createSecretMasker(secrets);
  const file = new LogFile(path, watchers);
  const done = pipeline(masker, file);
  return {
    log: masker,
    async close() {
      masker.end();
      await done.catch(() => undefined);
    },
  };
}

/**
 * Runs a task as Agola's executor does (reference §8.2): status running and setup running;
 * setup (task dir wiped, secrets read, pod created, working dir made); each step in order,
 * its status sent when it starts and ends; the first failing step ends the task (`failed`,
 * or `stopped` when a stop was requested). The pod is removed at the end.
 */
export async function executeTask(rt: RunningTask, deps: TaskRunnerDeps): Promise<void> {
  const et = rt.et;
  const paths = taskPaths(deps.tasksDir, et.id);
  const status = rt.status;
  status.phase = 'running';
  status.start_time = now();
  status.setup_step = { phase: 'running', start_time: now() };
  deps.send(rt);

  const signal = rt.abort.signal;
  let pod: Pod | undefined;
  let secrets: string[] = [];
  const finish = (phase: ExecutorTaskPhase, failError?: string) => {
    status.phase = phase;
    status.end_time = now();
    if (failError) status.fail_error = failError;
  };

  // --- setup
  // the run (for its secret variable names) is read while the task dir is prepared
  const namesP = deps.client
    .getRun(et.spec.run_id, undefined, { signal })
    .then((r) => secretEnvNames(r.run_config, r.run));
  namesP.catch(() => undefined); // awaited below
  await rm(paths.dir, { recursive: true, force: true });
  await Promise.all(
    [join(paths.dir, 'logs', 'steps'), join(paths.dir, 'archives'), paths.tmp].map((d) =>
      mkdir(d, { recursive: true }),
    ),
  );
  let setupLog: Awaited<ReturnType<typeof openLog>> | undefined;
  try {
    // The secret values must be known before the first byte of any log is written.
    const names = await namesP;
    const stepEnvs = (et.spec.steps ?? []).map((s) =>
      s.type === 'run' ? s.environment : undefined,
    );
    secrets = secretValues(names, [et.spec.environment, ...stepEnvs]);
    setupLog = await openLog(paths.setupLog, secrets, deps.watchers);
    const log = setupLog.log;
    const masker = log as SecretMasker;
    if (masker.unmaskedCount > 0) {
      log.write(`warning: ${masker.unmaskedCount} secret value(s) too short to be masked\n`);
    }
    const containers = containersOf(et);
    if (containers.some((c) => c.privileged) && !deps.allowPrivileged) {
      throw new Error('the task needs privileged containers but the executor does not allow them');
    }
    log.write('Starting pod.\n');
    pod = await deps.driver.newPod(
      {
        id: randomUUID(),
        taskId: et.id,
        containers,
        registryAuth: registryAuthOf(et),
      },
      { out: log, signal },
    );
    rt.pod = pod;
    if (rt.stopRequested) await pod.stop().catch(() => undefined);
    log.write('Pod started.\n');
    if (et.spec.working_dir) {
      log.write(`Creating working dir ${JSON.stringify(et.spec.working_dir)}.\n`);
    }
    await prepareWorkingDir(baseContext(et, pod, log, signal));
    status.setup_step = { ...status.setup_step, phase: 'success', end_time: now() };
  } catch (err) {
    const message = compactText(err);
    setupLog?.log.write(`setup failed: ${message}\n`);
    status.setup_step = {
      ...status.setup_step,
      phase: rt.stopRequested ? 'stopped' : 'failed',
      end_time: now(),
    };
    finish(rt.stopRequested ? 'stopped' : 'failed', message);
  } finally {
    await setupLog?.close();
    deps.watchers.notify(paths.setupLog);
  }
  // when a step follows, its `running` status (sent at once) carries the setup's end too:
  // one round trip to the runservice less before the first step runs
  if (isFinal(status.phase) || !pod || (et.spec.steps ?? []).length === 0) deps.send(rt);

  // --- steps
  if (!isFinal(status.phase) && pod) {
    let failed = false;
    const steps = et.spec.steps ?? [];
    for (let i = 0; i < steps.length && !failed; i++) {
      const step = steps[i]!;
      const st: ExecutorTaskStepStatus = { phase: 'running', start_time: now() };
      status.steps[i] = st;
      deps.send(rt);
      const out = await openLog(paths.stepLog(i), secrets, deps.watchers);
      let exit: number | undefined;
      let error: string | undefined;
      try {
        if (rt.stopRequested) throw new Error('the task was stopped');
        exit = await runConfigStep(i, step, baseContext(et, pod, out.log, signal), deps, et);
      } catch (err) {
        error = compactText(err);
        out.log.write(`${error}\n`);
      } finally {
        await out.close();
      }
      st.end_time = now();
      if (exit !== undefined) st.exit_status = exit;
      if (error === undefined && exit === 0 && !rt.stopRequested) st.phase = 'success';
      else {
        st.phase = rt.stopRequested ? 'stopped' : 'failed';
        failed = true;
      }
      deps.watchers.notify(paths.stepLog(i));
      if (failed) finish(rt.stopRequested ? 'stopped' : 'failed');
      else if (i < steps.length - 1) deps.send(rt);
    }
    if (!failed) finish('success');
  }
  // the runservice learns the end at once; removing the pod (seconds with some engines) follows
  deps.finished(rt);
  if (pod) await pod.remove().catch((err: unknown) => deps.logger.warn({ err }, 'removing pod'));
}

function baseContext(
  et: ExecutorTaskWithData,
  pod: Pod,
  log: NodeJS.WritableStream,
  signal: AbortSignal,
): StepContext {
  const user = et.spec.user || et.spec.containers?.[0]?.user || undefined;
  return {
    pod,
    env: { ...et.spec.environment },
    ...(et.spec.working_dir ? { workingDir: et.spec.working_dir } : {}),
    ...(user ? { user } : {}),
    ...(et.spec.shell ? { shell: et.spec.shell } : {}),
    ...(et.spec.arch ? { arch: et.spec.arch } : {}),
    log: log as StepContext['log'],
    signal,
  };
}

/** Runs one step; resolves with its exit code (0 for the steps that are not commands). */
async function runConfigStep(
  index: number,
  step: RunConfigStep,
  ctx: StepContext,
  deps: TaskRunnerDeps,
  et: ExecutorTaskWithData,
): Promise<number> {
  const paths = taskPaths(deps.tasksDir, et.id);
  const store = deps.store(et.id);
  const contentsOf = (cs: { source_dir?: string; dest_dir?: string; paths?: string[] }[]) =>
    cs.map((c) => ({
      sourceDir: c.source_dir ?? '.',
      ...(c.dest_dir ? { destDir: c.dest_dir } : {}),
      paths: c.paths ?? [],
    }));
  switch (step.type) {
    case 'run':
      return runStep(ctx, {
        command: step.command ?? '',
        ...(step.environment ? { environment: step.environment } : {}),
        ...(step.working_dir ? { workingDir: step.working_dir } : {}),
        ...(step.shell ? { shell: step.shell } : {}),
        ...(step.tty !== undefined ? { tty: step.tty } : {}),
      });
    case 'save_to_workspace':
      await saveToWorkspace(
        ctx,
        contentsOf(step.contents ?? []),
        createWriteStream(paths.archive(index)),
      );
      return 0;
    case 'restore_workspace':
      await restoreWorkspace(
        ctx,
        step.dest_dir ?? '.',
        (et.spec.workspace_operations ?? []).map((op) => ({ taskId: op.task_id, step: op.step })),
        store,
      );
      return 0;
    case 'save_cache':
      await saveCache(
        ctx,
        { key: step.key ?? '', contents: contentsOf(step.contents ?? []) },
        { cachePrefix: et.spec.cache_prefix, store },
      );
      return 0;
    case 'restore_cache':
      await restoreCache(
        ctx,
        { keys: step.keys ?? [], destDir: step.dest_dir ?? '.' },
        { cachePrefix: et.spec.cache_prefix, store },
      );
      return 0;
    default: {
      const never: never = step;
      throw new Error(`unknown step type ${JSON.stringify((never as { type: unknown }).type)}`);
    }
  }
}
