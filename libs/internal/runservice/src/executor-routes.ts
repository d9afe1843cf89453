import type { FastifyInstance } from 'fastify';
import {
  ARCHS,
  EXECUTOR_TASK_PHASES,
  type Executor,
  type ExecutorTask,
  type ExecutorTaskStatus,
} from '@agola-ts/types';
import { objectBody, optBool, optString, optStringList, optStringMap } from './body.js';
import type { Engine } from './engine.js';
import { invalid, notFound } from './errors.js';

type Params = Record<string, string>;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optInt(o: Record<string, unknown>, field: string): number | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${field} must be a non-negative integer`);
  }
  return v;
}

/** An executor heartbeat body, checked field by field. */
function parseExecutor(body: Record<string, unknown>, pathId: string): Executor {
  const id = optString(body, 'id') || pathId;
  if (id === '' || id.includes('/')) throw invalid('executor id is invalid');
  const listenURL = optString(body, 'listenURL') ?? '';
  if (listenURL !== '' && !/^https?:\/\//.test(listenURL)) {
    throw invalid('listenURL must be an http(s) URL');
  }
  const archs = optStringList(body, 'archs');
  if (archs?.some((a) => !(ARCHS as readonly string[]).includes(a))) {
    throw invalid('archs has an unknown arch');
  }
  const e: Executor = {
    id,
    listenURL,
    last_status_update_time: new Date().toISOString(),
  };
  if (archs) e.archs = archs as Executor['archs'];
  const labels = optStringMap(body, 'labels');
  if (labels) e.labels = labels;
  const priv = optBool(body, 'allow_privileged_containers');
  if (priv !== undefined) e.allow_privileged_containers = priv;
  const limit = optInt(body, 'active_tasks_limit');
  if (limit !== undefined) e.active_tasks_limit = limit;
  const active = optInt(body, 'active_tasks');
  if (active !== undefined) e.active_tasks = active;
  const dynamic = optBool(body, 'dynamic');
  if (dynamic !== undefined) e.dynamic = dynamic;
  const group = optString(body, 'executor_group');
  if (group !== undefined) e.executor_group = group;
  const siblings = optStringList(body, 'siblings_executors');
  if (siblings) e.siblings_executors = siblings;
  return e;
}

function checkStepStatus(v: unknown, where: string): void {
  if (!isObject(v)) throw invalid(`${where} must be an object`);
  if (!(EXECUTOR_TASK_PHASES as readonly unknown[]).includes(v['phase'])) {
    throw invalid(`${where}.phase is not an executor task phase`);
  }
  const exit = v['exit_status'];
  if (
    exit !== undefined &&
    exit !== null &&
    (typeof exit !== 'number' || !Number.isInteger(exit))
  ) {
    throw invalid(`${where}.exit_status must be an integer`);
  }
  for (const f of ['start_time', 'end_time']) {
    const t = v[f];
    if (t !== undefined && t !== null && (typeof t !== 'string' || Number.isNaN(Date.parse(t)))) {
      throw invalid(`${where}.${f} must be a time`);
    }
  }
}

/** The status of an executor task status update, checked. */
function parseStatus(body: Record<string, unknown>): ExecutorTaskStatus {
  const status = body['status'];
  if (!isObject(status)) throw invalid('status must be an object');
  checkStepStatus(status, 'status');
  const setup = status['setup_step'] ?? { phase: 'notstarted' };
  checkStepStatus(setup, 'status.setup_step');
  const steps = status['steps'] ?? [];
  if (!Array.isArray(steps) || steps.length > 10_000) throw invalid('status.steps must be a list');
  steps.forEach((s: unknown, i) => checkStepStatus(s, `status.steps[${i}]`));
  if (status['fail_error'] !== undefined && typeof status['fail_error'] !== 'string') {
    throw invalid('status.fail_error must be a string');
  }
  return {
    ...(status as unknown as ExecutorTaskStatus),
    setup_step: setup as ExecutorTaskStatus['setup_step'],
    steps: steps as ExecutorTaskStatus['steps'],
  };
}

/** The executor routes of reference §7.8: heartbeats and executor tasks. */
export function registerExecutorRoutes(api: FastifyInstance, engine: Engine): void {
  const estore = engine.estore;

  /** An executor task with its spec data regenerated (as stored when its run is gone). */
  async function withData(et: ExecutorTask): Promise<ExecutorTask> {
    const run = await estore.getRun(et.spec.run_id);
    const rt = run?.value.tasks[et.id];
    const rc = run ? await engine.runConfig(run.value.id) : undefined;
    if (!run || !rt || !rc) return et;
    return engine.withSpecData(et, run.value, rt, rc);
  }

  api.post<{ Params: Params }>('/executor/:executorid', async (req, reply) => {
    const executor = parseExecutor(objectBody(req.body), req.params['executorid'] ?? '');
    await estore.putExecutor(executor);
    // dynamic executors of the group that the sender no longer lists are gone
    const siblings = new Set(executor.siblings_executors ?? []);
    for (const other of await estore.listExecutors()) {
      if (other.id === executor.id || !other.dynamic) continue;
      if ((other.executor_group ?? '') !== (executor.executor_group ?? '')) continue;
      if (!siblings.has(other.id)) await estore.deleteExecutor(other.id);
    }
    return reply.code(200).send();
  });

  api.delete<{ Params: Params }>('/executor/:executorid', async (req, reply) => {
    await estore.deleteExecutor(req.params['executorid'] ?? '');
    return reply.code(200).send();
  });

  api.get<{ Params: Params }>('/executor/:executorid/tasks', async (req) => {
    const id = req.params['executorid'] ?? '';
    const ets = (await estore.listTasks()).filter((et) => et.value.spec.executor_id === id);
    return Promise.all(ets.map((et) => withData(et.value)));
  });

  api.get<{ Params: Params }>('/executor/:executorid/tasks/:taskid', async (req) => {
    const id = req.params['taskid'] ?? '';
    const et = await estore.getTask(id);
    if (!et) throw notFound(`executor task ${JSON.stringify(id)} doesn't exist`);
    return withData(et.value);
  });

  api.post<{ Params: Params }>('/executor/:executorid/tasks/:taskid', async (req, reply) => {
    const id = req.params['taskid'] ?? '';
    const status = parseStatus(objectBody(req.body));
    // replace the stored status (re-read on a concurrent change of the task, e.g. a stop)
    let runId: string | undefined;
    for (let attempt = 0; attempt < 5 && runId === undefined; attempt++) {
      const et = await estore.getTask(id);
      if (!et) throw invalid(`executor task ${JSON.stringify(id)} doesn't exist`);
      const next: ExecutorTask = { ...et.value, status };
      if ((await estore.atomicPutTask(next, et.revision)) !== undefined)
        runId = et.value.spec.run_id;
    }
    if (runId === undefined)
      throw invalid(`executor task ${JSON.stringify(id)} changed concurrently`);
    if (engine.settings.pushDispatch) void engine.scheduleRun(runId);
    return reply.code(200).send();
  });
}
