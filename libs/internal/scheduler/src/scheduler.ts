import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { newError } from '@agola-ts/errors';
import { createRunserviceClient, type RunserviceClient } from '@agola-ts/runservice-client';
import {
  createServiceHealth,
  createServiceServer,
  healthProblemOf,
  HEALTH_PATH,
  object,
  optional,
  sendHealth,
  url,
  webSchema,
  type HostPort,
  type Infer,
  type ServiceLogger,
} from '@agola-ts/service-kit';
import type { Run } from '@agola-ts/types';
import { SchedulerErrorCodes } from './codes.js';

/** The `scheduler` section of the config file: Agola's `runserviceURL`, plus `web` for health. */
export const schedulerSchema = object({
  runserviceURL: url(),
  web: optional(webSchema),
});

/** A checked {@link schedulerSchema} section. */
export type SchedulerSection = Infer<typeof schedulerSchema>;

/** The scheduler's config (a checked `scheduler` section fits). */
export interface SchedulerConfig {
  /** The runservice URL, with or without the `/api/v1alpha` prefix. */
  runserviceURL: string;
  /** Where `GET /health` listens; without it the scheduler serves no HTTP. */
  web?: { listen: HostPort };
}

/** Loop periods of the scheduler (Agola's: 1 s each). */
export interface SchedulerIntervals {
  /** Safety-net period of the schedule pass. @default 1000 */
  scheduleMs: number;
  /** Safety-net period of the approve pass. @default 1000 */
  approveMs: number;
}

/** What the scheduler is given besides its config (all optional). */
export interface SchedulerDeps {
  /** The app's logger. @default silent */
  logger?: ServiceLogger;
  /** A runservice client to use instead of one built from `runserviceURL`. */
  client?: RunserviceClient;
  /** Loop periods (Agola's by default). */
  intervals?: Partial<SchedulerIntervals>;
  /** Also wake the passes on run events (`GET /runs/events`). @default true */
  events?: boolean;
}

/** A scheduler, created stopped. */
export interface Scheduler {
  /** Starts the loops (and the health server when `web` is set). */
  start(): Promise<void>;
  /** Stops the loops and the server; waits for the pass in progress. */
  stop(): Promise<void>;
  /** Runs one schedule pass now (tests, tools). Resolves with the run ids it started. */
  schedulePass(): Promise<string[]>;
  /** Runs one approve pass now. Resolves with `runId/taskId` of the tasks it approved. */
  approvePass(): Promise<string[]>;
  /** The health server (once started with `web`). */
  readonly app: FastifyInstance | undefined;
  /** The health server's port (once started with `web`). */
  readonly port: number | undefined;
}

/** The default loop periods (Agola's). */
export const DEFAULT_SCHEDULER_INTERVALS: SchedulerIntervals = {
  scheduleMs: 1000,
  approveMs: 1000,
};

const PAGE = 40;

/** The change group that serialises the start of the runs of one group. */
export function groupChangeGroup(group: string): string {
  return createHash('sha256').update(`changegroup-${group}`).digest('hex');
}

/** The change group that serialises the approvals of one run. */
export function approvalChangeGroup(runId: string): string {
  return createHash('sha256').update(`approval-${runId}`).digest('hex');
}

/** The approvers in a task's `approvers` annotation (a JSON array of user ids). */
export function approversOf(annotations: Record<string, string> | undefined): string[] {
  const raw =
    annotations && Object.hasOwn(annotations, 'approvers') ? annotations['approvers'] : '';
  if (!raw) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function apiBase(runserviceURL: string): string {
  let u = runserviceURL;
  while (u.endsWith('/')) u = u.slice(0, -1);
  return u.endsWith('/api/v1alpha') ? u : `${u}/api/v1alpha`;
}

/**
 * A pass that runs at most once at a time: a wake-up during a pass runs one more pass after
 * it (wake-ups are coalesced, none is lost).
 */
class CoalescedPass<T> {
  private running: Promise<T> | undefined;
  private again = false;
  constructor(private readonly fn: () => Promise<T>) {}
  run(): Promise<T> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const p = (async () => {
      try {
        let result = await this.fn();
        while (this.again) {
          this.again = false;
          result = await this.fn();
        }
        return result;
      } finally {
        this.running = undefined;
      }
    })();
    this.running = p;
    return p;
  }
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}

/**
 * Creates the scheduler (reference §7.6): the schedule pass starts the first queued run of
 * every group that has no running run, with a change-group token of the group so that two
 * schedulers cannot both start one; the approve pass approves every waiting task of a
 * running run that has at least one approver (annotation `approvers`), with a token of the
 * run's approval change group. Both passes run on every run event from the runservice and
 * every second as a safety net.
 *
 * @throws `ERR_SCHEDULER_INVALID_CONFIG` (from `start`) when neither `runserviceURL` nor a
 *   client is given.
 *
 * @example
 * ```ts
 * const scheduler = createScheduler({ runserviceURL: 'http://127.0.0.1:4003' }, { logger });
 * await scheduler.start();
 * // ...
 * await scheduler.stop();
 * ```
 */
export function createScheduler(
  config: SchedulerConfig | SchedulerSection,
  deps: SchedulerDeps = {},
): Scheduler {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const intervals = { ...DEFAULT_SCHEDULER_INTERVALS, ...deps.intervals };
  const health = createServiceHealth();
  let client: RunserviceClient | undefined = deps.client;
  let controller: AbortController | undefined;
  let app: FastifyInstance | undefined;
  let port: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  let eventsDone: Promise<void> | undefined;

  const rs = (): RunserviceClient => {
    if (!client) {
      if (!config.runserviceURL) {
        throw newError('scheduler config: runserviceURL is missing', {
          code: SchedulerErrorCodes.InvalidConfig,
        });
      }
      client = createRunserviceClient({ baseUrl: apiBase(config.runserviceURL) });
    }
    return client;
  };
  const signal = () => controller?.signal;

  /** Every run in `phase`, ascending, page by page. */
  async function* runsIn(phase: 'queued' | 'running'): AsyncGenerator<Run> {
    let start: string | undefined;
    for (;;) {
      const { runs } = await rs().getRuns(
        { phase: [phase], asc: true, limit: PAGE, ...(start ? { start } : {}) },
        { signal: signal() },
      );
      for (const r of runs) yield r;
      if (runs.length < PAGE) return;
      start = runs[runs.length - 1]!.id;
    }
  }

  async function scheduleGroup(group: string): Promise<string | undefined> {
    const c = rs();
    const { runs: queued } = await c.getRuns(
      { phase: ['queued'], group: [group], asc: true, limit: 1 },
      { signal: signal() },
    );
    const first = queued[0];
    // the group filter matches sub-groups too: only this very group counts
    if (!first || first.group !== group) return undefined;
    const cg = groupChangeGroup(group);
    const { runs: running, change_groups_update_tokens: token } = await c.getRuns(
      { phase: ['running'], group: [group], limit: 1, changeGroups: [cg] },
      { signal: signal() },
    );
    if (running.some((r) => r.group === group)) return undefined;
    await c.startRun(first.id, token, { signal: signal() });
    logger.debug({ runId: first.id, group }, 'run started');
    return first.id;
  }

  async function schedulePassOnce(): Promise<string[]> {
    const groups = new Set<string>();
    for await (const run of runsIn('queued')) groups.add(run.group);
    const started: string[] = [];
    for (const group of groups) {
      try {
        const id = await scheduleGroup(group);
        if (id) started.push(id);
      } catch (err) {
        // a conflicting start (another scheduler, a run started meanwhile) lands here too
        logger.debug({ err, group }, 'cannot start the next run of a group');
      }
    }
    return started;
  }

  async function approvePassOnce(): Promise<string[]> {
    const approved: string[] = [];
    for await (const r of runsIn('running')) {
      const waiting = Object.values(r.tasks ?? {}).some((t) => t.waiting_approval);
      if (!waiting) continue;
      try {
        const { run, change_groups_update_tokens: token } = await rs().getRun(
          r.id,
          [approvalChangeGroup(r.id)],
          { signal: signal() },
        );
        for (const task of Object.values(run.tasks ?? {})) {
          if (!task.waiting_approval || task.approved) continue;
          if (approversOf(task.annotations).length === 0) continue;
          await rs().approveRunTask(run.id, task.id, token, { signal: signal() });
          approved.push(`${run.id}/${task.id}`);
          logger.debug({ runId: run.id, taskId: task.id }, 'task approved');
        }
      } catch (err) {
        logger.debug({ err, runId: r.id }, 'cannot approve the tasks of a run');
      }
    }
    return approved;
  }

  const guarded =
    <T>(name: string, fn: () => Promise<T>, empty: T) =>
    async (): Promise<T> => {
      try {
        const result = await fn();
        health.report(name, undefined);
        return result;
      } catch (err) {
        if (controller?.signal.aborted) return empty;
        logger.warn({ err }, `scheduler ${name} pass failed`);
        health.report(name, healthProblemOf(err, `${name} pass`));
        return empty;
      }
    };
  const schedule = new CoalescedPass(guarded('schedule', schedulePassOnce, [] as string[]));
  const approve = new CoalescedPass(guarded('approve', approvePassOnce, [] as string[]));

  async function followEvents(sig: AbortSignal): Promise<void> {
    try {
      for await (const ev of rs().runEvents({ signal: sig })) {
        logger.trace?.({ runId: ev.RunID, phase: ev.Phase }, 'run event');
        void schedule.run();
        void approve.run();
      }
    } catch (err) {
      if (!sig.aborted) logger.warn({ err }, 'run events stream ended');
    }
  }

  return {
    get app() {
      return app;
    },
    get port() {
      return port;
    },
    schedulePass: () => schedule.run(),
    approvePass: () => approve.run(),
    async start() {
      if (controller) return;
      rs();
      const ctl = new AbortController();
      controller = ctl;
      if (config.web?.listen) {
        const server = createServiceServer({ logger, name: 'scheduler', requestLogging: false });
        server.get(HEALTH_PATH, async (_req, reply) => sendHealth(reply, health.snapshot()));
        await server.listen(config.web.listen);
        const bound = server.server.address();
        port = typeof bound === 'object' && bound ? bound.port : config.web.listen.port;
        app = server;
      }
      if (deps.events ?? true) eventsDone = followEvents(ctl.signal);
      timers.push(setInterval(() => void schedule.run(), intervals.scheduleMs));
      timers.push(setInterval(() => void approve.run(), intervals.approveMs));
      void schedule.run();
      void approve.run();
    },
    async stop() {
      const ctl = controller;
      if (!ctl) return;
      ctl.abort();
      for (const t of timers.splice(0)) clearInterval(t);
      await eventsDone;
      await schedule.idle();
      await approve.idle();
      await app?.close();
      app = undefined;
      controller = undefined;
    },
  };
}
