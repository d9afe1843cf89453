import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { is } from '@agola-ts/errors';
import { created } from '@agola-ts/service-kit';
import {
  RUN_ACTION_TYPES,
  RUN_TASK_ACTION_TYPES,
  type GetRunsResponse,
  type Run,
  type RunConfig,
  type RunCreateRequest,
  type RunPhase,
  type RunResponse,
} from '@agola-ts/types';
import {
  checkTasksShape,
  objectBody,
  optBool,
  optString,
  optStringList,
  optStringMap,
} from './body.js';
import { RunserviceErrorCodes } from './codes.js';
import type { Engine } from './engine.js';
import { decodeRunToken, encodeRunToken } from './etcd-store.js';
import { invalid, invalidState, notFound } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { etcdKeys } from './keys.js';
import {
  checkRestartAllowed,
  newRun,
  pathList,
  recreateRun,
  validateNewRunRequest,
} from './logic/run-create.js';
import {
  changeGroupsOf,
  first,
  intOf,
  limitOf,
  phasesOf,
  queryOf,
  resultsOf,
  type Query,
} from './params.js';
import { groupPath, queries, type RunsQuery } from './readdb.js';
import type { Store } from './store.js';

type Params = Record<string, string>;

const FINISHED_PHASES: RunPhase[] = ['finished', 'cancelled', 'setuperror'];

/** Attempts of an action that lost a race with the scheduler on the run's revision. */
const ACTION_ATTEMPTS = 10;

/**
 * Runs `fn` (read the run, check, put it) again while it fails only because the run's
 * revision moved meanwhile (the scheduler writes runs all the time): each attempt re-reads
 * and re-checks, so the result is the same as one uncontended request. A moved change group
 * of the caller's token ("optimistic locking failed") is the caller's to handle.
 */
async function retryRunModified(fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const modified =
        is(err, RunserviceErrorCodes.ConcurrentUpdate) &&
        err instanceof Error &&
        err.message.startsWith('run modified');
      if (!modified || attempt >= ACTION_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

/** The run routes of reference §7.8. */
export function registerRunRoutes(api: FastifyInstance, engine: Engine, store: Store): void {
  const estore = engine.estore;
  const counters = new KeyedMutex();

  /** A run from etcd (active) or the readdb (archived). */
  async function findRun(id: string): Promise<Run | undefined> {
    const index = estore.index;
    const indexed = index.synced ? index.get(id) : (await estore.getRun(id))?.value;
    if (indexed) return indexed;
    const archived = await store.read((tx) => queries.archivedRun(tx, id));
    if (archived || !index.synced) return archived;
    // not delivered by the watch yet (another instance's new run)
    return (await estore.getRun(id))?.value;
  }

  async function runResponse(run: Run, q: Query): Promise<RunResponse> {
    const groups = changeGroupsOf(q);
    // without change groups the token is only a revision: the index's (an etcd revision already
    // passed, so never newer than what a fresh read would give) spares the etcd round trip
    const token =
      groups.length === 0 && estore.index.synced
        ? { curRevision: estore.index.revision, changeGroupsRevisions: new Map<string, bigint>() }
        : await estore.changeGroupsToken(groups);
    const rc = await engine.runConfig(run.id);
    return {
      run,
      run_config: rc as RunConfig,
      change_groups_update_tokens: encodeRunToken(token),
    };
  }

  api.get<{ Params: Params }>('/runs/:runid', async (req) => {
    const q = queryOf(req.query);
    const id = req.params['runid'] ?? '';
    const run = await findRun(id);
    if (!run) throw notFound(`run ${JSON.stringify(id)} doesn't exist`);
    return runResponse(run, q);
  });

  api.get<{ Params: Params }>('/runs/group/:group/:runcounter', async (req) => {
    const q = queryOf(req.query);
    const group = req.params['group'] ?? '';
    const counterText = req.params['runcounter'] ?? '';
    if (!/^\d{1,15}$/.test(counterText)) throw invalid('runcounter must be a number');
    const counter = Number(counterText);
    const gp = groupPath(group);
    const fromEtcd = async () => {
      const { runs } = await estore.listRuns();
      return runs
        .map((r) => r.value)
        .filter((r) => groupPath(r.group).startsWith(gp) && r.counter === counter)
        .sort((a, b) => (a.id < b.id ? 1 : -1))[0];
    };
    // the index (synced by the watch, own writes at once), else etcd; then the archived runs;
    // a miss in both is checked in etcd again (a run another instance created that the watch
    // has not delivered yet)
    const index = estore.index;
    const indexed = index.synced ? index.byGroupCounter(group, counter) : await fromEtcd();
    const run =
      indexed ??
      (await store.read((tx) => queries.archivedRunByCounter(tx, group, counter))) ??
      (index.synced ? await fromEtcd() : undefined);
    if (!run)
      throw notFound(
        `run for group ${JSON.stringify(group)} with counter ${counter} doesn't exist`,
      );
    return runResponse(run, q);
  });

  api.get<{ Params: Params }>('/runs/group/:group', async (req) => {
    const q = queryOf(req.query);
    const group = req.params['group'] ?? '';
    if (group === '') throw invalid('group is empty');
    const rq: RunsQuery = {
      phases: phasesOf(q),
      results: resultsOf(q),
      groups: [group],
      startCounter: intOf(q, 'start'),
      limit: limitOf(q),
      asc: q.has('asc'),
    };
    return listRuns(rq, q, 'counter');
  });

  api.get('/runs', async (req) => {
    const q = queryOf(req.query);
    const rq: RunsQuery = {
      phases: phasesOf(q),
      results: resultsOf(q),
      groups: q.get('group') ?? [],
      startRunId: first(q, 'start') || undefined,
      limit: limitOf(q),
      asc: q.has('asc'),
    };
    if (rq.groups.length > 100) throw invalid('too many group values');
    return listRuns(rq, q, 'id', q.has('lastrun'));
  });

  async function listRuns(
    rq: RunsQuery,
    q: Query,
    order: 'id' | 'counter',
    lastRun = false,
  ): Promise<GetRunsResponse> {
    const token = await estore.changeGroupsToken(changeGroupsOf(q));
    const gps = rq.groups.map(groupPath);
    const { runs } = await estore.listRuns();
    const matches = (r: Run) =>
      (rq.phases.length === 0 || rq.phases.includes(r.phase)) &&
      (rq.results.length === 0 || rq.results.includes(r.result)) &&
      (gps.length === 0 || gps.some((g) => groupPath(r.group).startsWith(g))) &&
      (rq.startRunId === undefined || (rq.asc ? r.id > rq.startRunId : r.id < rq.startRunId)) &&
      (rq.startCounter === undefined ||
        (rq.asc ? r.counter > rq.startCounter : r.counter < rq.startCounter));
    const byId = new Map<string, Run>();
    for (const { value } of runs) if (matches(value)) byId.set(value.id, value);
    const archivedToo =
      rq.phases.length === 0 || rq.phases.some((p) => FINISHED_PHASES.includes(p));
    if (archivedToo) {
      // with lastrun, older runs of a group could hide behind the limit: read them all
      const archived = await store.read((tx) =>
        queries.archivedRuns(tx, lastRun ? { ...rq, limit: 1_000_000 } : rq),
      );
      for (const r of archived) if (!byId.has(r.id)) byId.set(r.id, r);
    }
    let list = [...byId.values()];
    if (lastRun) {
      const last = new Map<string, Run>();
      for (const r of list) {
        const cur = last.get(r.group);
        if (!cur || r.id > cur.id) last.set(r.group, r);
      }
      list = [...last.values()];
    }
    const key = (r: Run) => (order === 'counter' ? r.counter : 0);
    list.sort((a, b) => {
      const d = key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      return rq.asc ? d : -d;
    });
    return { runs: list.slice(0, rq.limit), change_groups_update_tokens: encodeRunToken(token) };
  }

  api.post('/runs', async (req, reply) => {
    const body = objectBody(req.body);
    const request = parseRunCreateRequest(body);
    const runToken = decodeRunToken(request.changeup_update_tokens);
    const now = new Date();
    let bundle: { run: Run; runConfig: RunConfig };
    if (request.run_id) {
      const old = await findRun(request.run_id);
      if (!old) throw invalid(`run ${JSON.stringify(request.run_id)} doesn't exist`);
      const oldRc = await engine.runConfig(old.id);
      if (!oldRc) throw invalid(`run config of ${JSON.stringify(old.id)} doesn't exist`);
      checkRestartAllowed(old, { fromStart: request.from_start === true });
      const id = await estore.nextSequence(etcdKeys.runSequence);
      bundle = recreateRun({ run: old, runConfig: oldRc }, request, {
        id,
        now,
        newTaskId: () => randomUUID(),
      });
    } else {
      if (
        Object.keys(request.run_config_tasks ?? {}).length === 0 &&
        (request.setup_errors ?? []).length === 0
      ) {
        throw invalid('run_config_tasks or setup_errors are required');
      }
      // validate before taking a sequence number
      validateNewRunRequest(request);
      const id = await estore.nextSequence(etcdKeys.runSequence);
      bundle = newRun(request, { id, now });
    }
    const { run, runConfig } = bundle;
    const baseId = pathList(run.group)[1] ?? '';
    // the counter and the run config in one wal, guarded by the counter's change group (runs
    // of one project queue up here; another instance's are caught by the change group)
    run.counter = await counters.run(baseId, () =>
      store.writeWithCounter(baseId, (c) => [
        {
          actionType: 'put',
          dataType: 'runcounter',
          id: baseId,
          data: Buffer.from(JSON.stringify(c)),
        },
        {
          actionType: 'put',
          dataType: 'runconfig',
          id: runConfig.id,
          data: Buffer.from(JSON.stringify(runConfig)),
        },
      ]),
    );
    run.enqueue_time = now.toISOString();
    const event = await estore.newRunEvent(run.id, run.phase, run.result);
    await estore.atomicPutRun(run, 0n, { event, token: runToken });
    return created(reply, { run, run_config: runConfig });
  });

  api.put<{ Params: Params }>('/runs/:runid/actions', async (req, reply) => {
    const id = req.params['runid'] ?? '';
    const body = objectBody(req.body);
    const actionType = optString(body, 'action_type');
    if (!actionType || !(RUN_ACTION_TYPES as readonly string[]).includes(actionType)) {
      throw invalid(`action_type must be one of ${RUN_ACTION_TYPES.join(', ')}`);
    }
    const token = decodeRunToken(optString(body, 'change_groups_update_tokens'));
    const phase = optString(body, 'phase');
    await retryRunModified(async () => {
      const cur = await estore.getRun(id);
      if (!cur) throw notFound(`run ${JSON.stringify(id)} doesn't exist or is not active`);
      const run = structuredClone(cur.value);
      let event;
      if (actionType === 'changephase') {
        if (phase !== 'running' && phase !== 'cancelled') {
          throw invalid(`unsupported change phase ${JSON.stringify((phase ?? '').slice(0, 40))}`);
        }
        if (run.phase !== 'queued') {
          throw invalidState(
            `run ${JSON.stringify(run.id)} is not queued but in ${JSON.stringify(run.phase)} phase`,
          );
        }
        run.phase = phase;
        const t = new Date().toISOString();
        if (phase === 'running') run.start_time = t;
        else run.end_time = t;
        event = await estore.newRunEvent(run.id, run.phase, run.result);
      } else {
        if (run.phase !== 'running') {
          throw invalidState(
            `run ${run.id} is not running but in ${JSON.stringify(run.phase)} phase`,
          );
        }
        run.stop = true;
        for (const t of Object.values(run.tasks))
          if (t.waiting_approval) t.waiting_approval = false;
      }
      await estore.atomicPutRun(run, cur.revision, { event, token });
    });
    // the watch would bring it too: scheduling at once saves its hop
    if (engine.settings.pushDispatch) void engine.scheduleRun(id);
    return reply.code(200).send();
  });

  api.put<{ Params: Params }>('/runs/:runid/tasks/:taskid/actions', async (req, reply) => {
    const id = req.params['runid'] ?? '';
    const taskId = req.params['taskid'] ?? '';
    const body = objectBody(req.body);
    const actionType = optString(body, 'action_type');
    if (!actionType || !(RUN_TASK_ACTION_TYPES as readonly string[]).includes(actionType)) {
      throw invalid(`action_type must be one of ${RUN_TASK_ACTION_TYPES.join(', ')}`);
    }
    const annotations = optStringMap(body, 'annotations');
    const token = decodeRunToken(optString(body, 'change_groups_update_tokens'));
    await retryRunModified(async () => {
      const cur = await estore.getRun(id);
      if (!cur) throw notFound(`run ${JSON.stringify(id)} doesn't exist or is not active`);
      const run = structuredClone(cur.value);
      const task = Object.hasOwn(run.tasks, taskId) ? run.tasks[taskId] : undefined;
      if (!task)
        throw invalid(`run ${JSON.stringify(run.id)} doesn't have task ${JSON.stringify(taskId)}`);
      if (actionType === 'setannotations') {
        if (annotations === undefined) delete task.annotations;
        else task.annotations = annotations;
      } else {
        if (!task.waiting_approval) {
          throw invalidState(
            `run ${JSON.stringify(run.id)}, task ${JSON.stringify(taskId)} is not in waiting approval state`,
          );
        }
        if (task.approved) {
          throw invalidState(
            `run ${JSON.stringify(run.id)}, task ${JSON.stringify(taskId)} is already approved`,
          );
        }
        task.waiting_approval = false;
        task.approved = true;
      }
      await estore.atomicPutRun(run, cur.revision, { token });
    });
    if (engine.settings.pushDispatch) void engine.scheduleRun(id);
    return reply.code(200).send();
  });

  api.get('/changegroups', async (req, reply) => {
    const q = queryOf(req.query);
    const token = encodeRunToken(await estore.changeGroupsToken(changeGroupsOf(q)));
    // a JSON string, as Agola's (fastify would send a bare string as text)
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(token));
  });

  // Server-Sent Events of `scheduler/runevents`, from now (the start id is ignored, as Agola)
  api.get('/runs/events', async (req, reply) => {
    const rev = await estore.etcd.currentRevision();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(':\n\n');
    const ac = new AbortController();
    res.once('close', () => ac.abort());
    const keepAlive = setInterval(
      () => res.write(':\n\n'),
      engine.settings.intervals.eventsKeepAlive,
    );
    try {
      for await (const w of estore.etcd.watch(etcdKeys.runEvents, {
        startRevision: rev + 1n,
        signal: AbortSignal.any([ac.signal, engine.signal]),
      })) {
        for (const ev of w.events) {
          if (ev.type !== 'put' || ev.kv.key !== etcdKeys.runEvents) continue;
          res.write(`data: ${ev.kv.value.toString('utf8')}\n\n`);
        }
      }
    } catch (err) {
      req.log.warn({ err }, 'run events watch ended');
    } finally {
      clearInterval(keepAlive);
      res.end();
    }
  });
}

/** The fields of a RunCreateRequest, type-checked (deeper checks are the run logic's). */
function parseRunCreateRequest(body: Record<string, unknown>): RunCreateRequest {
  const tasks = Object.hasOwn(body, 'run_config_tasks') ? body['run_config_tasks'] : undefined;
  checkTasksShape(tasks);
  const req: RunCreateRequest = {
    run_config_tasks: (tasks ?? null) as RunCreateRequest['run_config_tasks'],
    name: optString(body, 'name') ?? '',
    group: optString(body, 'group') ?? '',
    setup_errors: optStringList(body, 'setup_errors') ?? null,
    static_environment: optStringMap(body, 'static_environment') ?? null,
    cache_group: optString(body, 'cache_group') ?? '',
    run_id: optString(body, 'run_id') ?? '',
    from_start: optBool(body, 'from_start') ?? false,
    reset_tasks: optStringList(body, 'reset_tasks') ?? null,
    environment: optStringMap(body, 'environment') ?? null,
    annotations: optStringMap(body, 'annotations') ?? null,
    changeup_update_tokens: optString(body, 'changeup_update_tokens') ?? '',
  };
  return req;
}

export type { Query };
