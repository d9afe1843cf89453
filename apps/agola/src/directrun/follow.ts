import { setTimeout as sleep } from 'node:timers/promises';
import { newError, wrap } from '@agola-ts/errors';
import type {
  GatewayClient,
  RunOwner,
  RunResponse,
  RunTaskResponse,
} from '@agola-ts/gateway-client';
import { AgolaAppErrorCodes } from '../codes.js';
import type { RunOutput } from './output.js';

/** Run phases after which nothing changes any more. */
const ENDED_PHASES = new Set(['finished', 'cancelled', 'setuperror']);
/** Task statuses after which nothing changes any more. */
const ENDED_TASK = new Set(['success', 'failed', 'stopped', 'skipped', 'cancelled']);

/** Options of {@link followRuns}. */
export interface FollowRunsOptions {
  client: GatewayClient;
  /** Whose runs (the user's direct runs). */
  owner: RunOwner;
  /** The run numbers to follow. */
  runNumbers: readonly number[];
  out: RunOutput;
  /** Period of the state polls. @default 150 */
  pollMs?: number;
  signal?: AbortSignal;
}

/** What {@link followRuns} saw. */
export interface FollowRunsResult {
  /** The runs' final state, in the order of `runNumbers`. */
  runs: RunResponse[];
  /** When the first log byte arrived (ms since the epoch), if any did. */
  firstLogAt: number | undefined;
}

/** Whether every run ended with phase finished and result success. */
export function allSucceeded(runs: readonly RunResponse[]): boolean {
  return runs.length > 0 && runs.every((r) => r.phase === 'finished' && r.result === 'success');
}

const sig = (signal?: AbortSignal) => (signal ? { signal } : {});

/** Retries a read a few times over transient failures (a restarting gateway, a lost answer). */
async function retrying<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted) throw err;
      const status = (err as { status?: number }).status;
      // a 4xx other than 404 will not change by asking again
      if (status !== undefined && status >= 400 && status < 500 && status !== 404) throw err;
      last = err;
      await sleep(200 * (attempt + 1), undefined, sig(signal));
    }
  }
  throw wrap(last, what, { code: AgolaAppErrorCodes.DirectRunFollow });
}

/**
 * Follows runs until they end: streams each task's step logs as the steps run (prefixed by the
 * task name, or `run/task` with several runs), reports the task graph's progress on every
 * change, prints setup errors, and returns the final states. Tasks are followed in parallel,
 * each step's log from its start (`?follow`) to its end.
 *
 * @throws `ERR_AGOLA_DIRECTRUN_FOLLOW` when the gateway keeps failing while following.
 */
export async function followRuns(options: FollowRunsOptions): Promise<FollowRunsResult> {
  const { client, owner, out, signal } = options;
  const pollMs = options.pollMs ?? 150;
  const several = options.runNumbers.length > 1;
  let firstLogAt: number | undefined;
  const latest = new Map<number, RunResponse>();
  // tasks whose logs are still being printed: shown as running until their last line is out,
  // so "task build success" never comes before build's own log lines
  const draining = new Set<string>();
  const report = () => {
    const view = [...latest.values()].map((run) => {
      const tasks = Object.fromEntries(
        Object.entries(run.tasks).map(([id, t]) =>
          draining.has(`${run.number}/${id}`) && ENDED_TASK.has(t.status)
            ? [id, { ...t, status: 'running', end_time: null }]
            : [id, t],
        ),
      );
      return { ...run, tasks };
    });
    out.progress(view);
  };

  const followTask = async (runNumber: number, label: string, taskId: string) => {
    let next = 0;
    for (;;) {
      const task: RunTaskResponse = await retrying(
        `reading task ${label} of run ${runNumber}`,
        () => client.getRunTask(owner, runNumber, taskId, sig(signal)),
        signal,
      );
      while (next < task.steps.length && task.steps[next]?.phase !== 'notstarted') {
        const step = task.steps[next];
        const name = step?.name || step?.type || `step ${next}`;
        out.log(label, `▶ ${name}\n`);
        await streamLog(runNumber, label, taskId, { step: next });
        next++;
      }
      if (ENDED_TASK.has(task.status)) {
        // a task that failed before its first step: its setup log says why
        if (next === 0 && task.status === 'failed') {
          out.note(`agola: ${label}: the task setup failed:`);
          await streamLog(runNumber, label, taskId, { setup: true });
        }
        return;
      }
      await sleep(pollMs, undefined, sig(signal));
    }
  };

  const streamLog = async (
    runNumber: number,
    label: string,
    taskId: string,
    which: { step: number } | { setup: true },
  ) => {
    // the step may have started an instant before its log exists: retry the open, not the data
    let got = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const chunks = await client.getLogs(
          owner,
          runNumber,
          taskId,
          { ...which, follow: true },
          sig(signal),
        );
        for await (const chunk of chunks) {
          if (chunk.length === 0) continue;
          firstLogAt ??= Date.now();
          got = true;
          out.log(label, Buffer.from(chunk).toString('utf8'));
        }
        out.flush(label);
        return;
      } catch (err) {
        out.flush(label);
        if (signal?.aborted) throw err;
        if (got || attempt >= 20) {
          out.note(`agola: ${label}: the log stream failed: ${(err as Error).message}`);
          return;
        }
        await sleep(100, undefined, sig(signal));
      }
    }
  };

  const followRun = async (runNumber: number) => {
    const tasks = new Map<string, Promise<void>>();
    for (;;) {
      const run = await retrying(
        `reading run ${runNumber}`,
        () => client.getRun(owner, runNumber, sig(signal)),
        signal,
      );
      if (latest.size === 0 || !latest.has(runNumber)) {
        out.labels(
          Object.values(run.tasks).map((t) => (several ? `${run.name}/${t.name}` : t.name)),
        );
      }
      latest.set(runNumber, run);
      for (const [id, t] of Object.entries(run.tasks)) {
        if (tasks.has(id) || t.status === 'notstarted' || t.status === 'skipped') continue;
        const label = several ? `${run.name}/${t.name}` : t.name;
        const key = `${runNumber}/${id}`;
        draining.add(key);
        tasks.set(
          id,
          followTask(runNumber, label, id).finally(() => {
            draining.delete(key);
            report();
          }),
        );
      }
      report();
      if (ENDED_PHASES.has(run.phase)) {
        await Promise.all(tasks.values());
        const final = await retrying(
          `reading run ${runNumber}`,
          () => client.getRun(owner, runNumber, sig(signal)),
          signal,
        );
        latest.set(runNumber, final);
        report();
        return final;
      }
      await sleep(pollMs, undefined, sig(signal));
    }
  };

  if (options.runNumbers.length === 0) {
    throw newError('no run to follow', { code: AgolaAppErrorCodes.DirectRunFollow });
  }
  const runs = await Promise.all(options.runNumbers.map(followRun));
  out.done();
  return { runs, firstLogAt };
}

/** Options of {@link findCreatedRuns}. */
export interface FindCreatedRunsOptions {
  client: GatewayClient;
  owner: RunOwner;
  /** The newest run number before the run was created (0 when there was none). */
  after: number;
  /** The commit the runs were created for (their `commit_sha` annotation). */
  commitSHA: string;
  /** How long to look before deciding no run was created. @default 10000 */
  timeoutMs?: number;
  /** Period of the list polls. @default 100 */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * The numbers of the runs created for `commitSHA` after run number `after` (a direct run
 * answers 201 without saying which runs it created; they are found in the user's run list).
 * Returns an empty list when none appears within `timeoutMs` (every run of the config was
 * skipped by its `when`, or `[ci skip]`).
 */
export async function findCreatedRuns(options: FindCreatedRunsOptions): Promise<number[]> {
  const { client, owner, signal } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const list = async () =>
    (
      await retrying(
        'listing the runs',
        () => client.getRuns(owner, { start: options.after, asc: true, limit: 40 }, sig(signal)),
        signal,
      )
    )
      .filter((r) => r.number > options.after && r.annotations['commit_sha'] === options.commitSHA)
      .map((r) => r.number);
  for (;;) {
    const found = await list();
    if (found.length > 0) {
      return found.sort((a, b) => a - b);
    }
    if (Date.now() > deadline) return [];
    await sleep(options.pollMs ?? 100, undefined, sig(signal));
  }
}

/** The newest run number of `owner` (0 when it has no run). */
export async function lastRunNumber(
  client: GatewayClient,
  owner: RunOwner,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const runs = await client.getRuns(owner, { limit: 1 }, sig(options.signal));
  return runs[0]?.number ?? 0;
}
