import fastify, { type FastifyInstance } from 'fastify';
import type { RunserviceClient } from '@agola-ts/runservice-client';
import type { Executor, ExecutorTaskStatus, ExecutorTaskWithData } from '@agola-ts/types';

/** What the test executor does with a task it receives. */
export type TaskOutcome = 'success' | 'failed' | 'hang';

/** Options of {@link startTestExecutor}. */
export interface TestExecutorOptions {
  id: string;
  client: RunserviceClient;
  /** Per task (by its name): the outcome. @default 'success' */
  outcome?: (task: ExecutorTaskWithData) => TaskOutcome;
  /** Send heartbeats every this many ms. @default 1000 */
  heartbeatMs?: number;
  /** Executor fields for the heartbeat. */
  executor?: Partial<Executor>;
  /** Do not run tasks, only record them (the bench). */
  recordOnly?: boolean;
}

/**
 * A protocol-level executor: a small fastify server that receives pushed tasks on
 * `POST /api/v1alpha/executor`, "runs" them (posts running, then each step, then the outcome),
 * and serves logs (`step N of <task>`) and workspace archives (`archive <task> <step>`).
 */
export interface TestExecutor {
  readonly id: string;
  readonly url: string;
  /** Task id → how many times it was received. */
  readonly received: Map<string, number>;
  /** Task id → when (performance.now()) it was first received. */
  readonly receivedAt: Map<string, number>;
  /** The last received version of each task. */
  readonly tasks: Map<string, ExecutorTaskWithData>;
  heartbeat(): Promise<void>;
  /** Finishes a hanging task with this outcome. */
  finish(taskId: string, outcome: 'success' | 'failed'): Promise<void>;
  close(): Promise<void>;
}

export async function startTestExecutor(opts: TestExecutorOptions): Promise<TestExecutor> {
  const received = new Map<string, number>();
  const receivedAt = new Map<string, number>();
  const tasks = new Map<string, ExecutorTaskWithData>();
  const running = new Set<string>();
  const app: FastifyInstance = fastify({ bodyLimit: 16 * 1024 * 1024 });
  let url = '';
  const client = opts.client;

  const post = (et: ExecutorTaskWithData, status: ExecutorTaskStatus) =>
    client.updateExecutorTaskStatus(opts.id, { id: et.id, status }).catch(() => undefined);

  async function runTask(et: ExecutorTaskWithData): Promise<void> {
    const outcome = opts.outcome?.(et) ?? 'success';
    const t0 = new Date().toISOString();
    const n = et.spec.steps?.length ?? 0;
    const status: ExecutorTaskStatus = {
      phase: 'running',
      start_time: t0,
      setup_step: { phase: 'success', start_time: t0, end_time: t0, exit_status: 0 },
      steps: Array.from({ length: n }, () => ({ phase: 'notstarted' as const })),
    };
    await post(et, status);
    if (outcome === 'hang') return;
    await finishWith(et, status, outcome);
  }

  async function finishWith(
    et: ExecutorTaskWithData,
    status: ExecutorTaskStatus,
    outcome: 'success' | 'failed' | 'stopped',
  ): Promise<void> {
    const t = new Date().toISOString();
    status.steps = status.steps.map((_, i) => ({
      phase:
        outcome === 'failed' && i === status.steps.length - 1
          ? 'failed'
          : outcome === 'stopped'
            ? 'stopped'
            : 'success',
      start_time: t,
      end_time: t,
      exit_status: outcome === 'failed' && i === status.steps.length - 1 ? 1 : 0,
    }));
    status.phase = outcome;
    status.end_time = t;
    running.delete(et.id);
    await post(et, status);
  }

  app.post('/api/v1alpha/executor', async (req, reply) => {
    const et = req.body as ExecutorTaskWithData;
    const first = !received.has(et.id);
    received.set(et.id, (received.get(et.id) ?? 0) + 1);
    if (first) receivedAt.set(et.id, performance.now());
    tasks.set(et.id, et);
    if (!opts.recordOnly) {
      if (et.spec.stop && running.has(et.id)) {
        const status: ExecutorTaskStatus = {
          phase: 'running',
          setup_step: { phase: 'success' },
          steps: Array.from({ length: et.spec.steps?.length ?? 0 }, () => ({
            phase: 'notstarted' as const,
          })),
        };
        void finishWith(et, status, 'stopped');
      } else if (first && !et.spec.stop) {
        running.add(et.id);
        void runTask(et);
      }
    }
    return reply.code(200).send();
  });

  app.get('/api/v1alpha/executor/logs', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const taskId = q['taskid'] ?? '';
    if (!tasks.has(taskId)) return reply.code(404).send();
    const text =
      q['setup'] !== undefined ? `setup of ${taskId}\n` : `step ${q['step']} of ${taskId}\n`;
    return reply.type('text/plain').send(text);
  });

  app.get('/api/v1alpha/executor/archives', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const taskId = q['taskid'] ?? '';
    if (!tasks.has(taskId)) return reply.code(404).send();
    return reply
      .type('application/octet-stream')
      .send(Buffer.from(`archive ${taskId} ${q['step']}`));
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const heartbeat = () =>
    client.executorHeartbeat({
      id: opts.id,
      listenURL: url,
      archs: ['amd64'],
      active_tasks: running.size,
      last_status_update_time: new Date().toISOString(),
      ...opts.executor,
    });
  await heartbeat();
  const timer = setInterval(
    () => void heartbeat().catch(() => undefined),
    opts.heartbeatMs ?? 1000,
  );

  return {
    id: opts.id,
    url,
    received,
    receivedAt,
    tasks,
    heartbeat,
    async finish(taskId, outcome) {
      const et = tasks.get(taskId);
      if (!et) throw new Error(`task ${taskId} not received`);
      const n = et.spec.steps?.length ?? 0;
      await finishWith(
        et,
        {
          phase: 'running',
          setup_step: { phase: 'success' },
          steps: Array.from({ length: n }, () => ({ phase: 'running' as const })),
        },
        outcome,
      );
    },
    async close() {
      clearInterval(timer);
      await app.close();
    },
  };
}
