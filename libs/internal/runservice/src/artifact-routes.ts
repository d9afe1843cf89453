import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isNotExist, type ObjectStorage } from '@agola-ts/ost';
import type { Run } from '@agola-ts/types';
import type { Engine } from './engine.js';
import { invalid, invalidState, notFound } from './errors.js';
import { MAX_CACHE_KEY_LENGTH, ostKeys } from './keys.js';
import { first, queryOf, type Query } from './params.js';
import { queries } from './readdb.js';
import type { Store } from './store.js';

interface LogRef {
  runId: string;
  taskId: string;
  setup: boolean;
  step: number;
}

/** `runid`, `taskid` and exactly one of `setup` / `step=N`. */
function logRef(q: Query): LogRef {
  const runId = first(q, 'runid') ?? '';
  if (runId === '') throw invalid('runid is empty');
  const taskId = first(q, 'taskid') ?? '';
  if (taskId === '') throw invalid('taskid is empty');
  const setup = q.has('setup');
  const stepText = first(q, 'step') ?? '';
  if (!setup && stepText === '') throw invalid('setup is false and step is empty');
  if (setup && stepText !== '') throw invalid('setup is true and step is set');
  let step = 0;
  if (!setup) {
    if (!/^\d{1,6}$/.test(stepText)) throw invalid('step is not a valid number');
    step = Number(stepText);
  }
  return { runId, taskId, setup, step };
}

/** The escaped cache key of a `/executor/caches/{key}` URL (Agola keeps it escaped). */
function cacheKeyOf(rawUrl: string): string {
  const path = rawUrl.split('?', 1)[0] ?? '';
  const at = path.indexOf('/executor/caches/');
  const key = at < 0 ? '' : path.slice(at + '/executor/caches/'.length);
  if (key === '') throw invalid('empty cache key');
  if (key.includes('/')) throw invalid('invalid cache key');
  if (key.length > MAX_CACHE_KEY_LENGTH) throw invalid('cache key too long');
  if (key === '.' || key === '..') throw invalid('invalid cache key');
  return key;
}

/** The newest object matching a cache key (a prefix with `prefix`), or undefined. */
async function matchCache(
  ost: ObjectStorage,
  key: string,
  prefix: boolean,
): Promise<string | undefined> {
  if (prefix) {
    let newest: { key: string; t: number } | undefined;
    for await (const o of ost.list(ostKeys.cache(key).slice(0, -'.tar'.length))) {
      if (!o.key.endsWith('.tar')) continue;
      const t = o.lastModified.getTime();
      if (!newest || t > newest.t) newest = { key: o.key, t };
    }
    return newest?.key;
  }
  try {
    await ost.stat(ostKeys.cache(key));
    return ostKeys.cache(key);
  } catch (err) {
    if (isNotExist(err)) return undefined;
    throw err;
  }
}

async function sendObject(ost: ObjectStorage, key: string, reply: FastifyReply, what: string) {
  let stream: Readable;
  try {
    stream = await ost.read(key);
  } catch (err) {
    if (isNotExist(err)) throw notFound(`${what} doesn't exist`);
    throw err;
  }
  return reply.header('cache-control', 'no-cache').type('application/octet-stream').send(stream);
}

/** Logs, workspace archives and caches (reference §7.8). */
export function registerArtifactRoutes(
  api: FastifyInstance,
  engine: Engine,
  store: Store,
  ost: ObjectStorage,
): void {
  const estore = engine.estore;

  async function findRun(id: string): Promise<Run | undefined> {
    const active = await estore.getRun(id);
    if (active) return active.value;
    return store.read((tx) => queries.archivedRun(tx, id));
  }

  /** The run task and whether the referenced log is fetched into the object storage. */
  async function logTarget(ref: LogRef) {
    const run = await findRun(ref.runId);
    if (!run) throw notFound(`no such run with id: ${ref.runId}`);
    const task = Object.hasOwn(run.tasks, ref.taskId) ? run.tasks[ref.taskId] : undefined;
    if (!task) throw notFound(`no such task with ID ${ref.taskId} in run ${ref.runId}`);
    const step = ref.setup ? task.setup_step : task.steps[ref.step];
    if (!step) throw notFound(`no such step for task ${ref.taskId} in run ${ref.runId}`);
    const key = ref.setup ? ostKeys.setupLog(task.id) : ostKeys.stepLog(task.id, ref.step);
    return { task, fetched: step.log_phase === 'finished', key };
  }

  api.get('/logs', async (req, reply) => {
    const q = queryOf(req.query);
    const ref = logRef(q);
    const follow = q.has('follow');
    const { task, fetched, key } = await logTarget(ref);
    if (fetched) return sendObject(engine.deps.ost, key, reply, 'log');
    const et = await estore.getTask(task.id);
    if (!et) throw notFound(`executor task with id ${JSON.stringify(task.id)} doesn't exist`);
    const executor = await estore.getExecutor(et.value.spec.executor_id);
    if (!executor) {
      throw notFound(`executor with id ${JSON.stringify(et.value.spec.executor_id)} doesn't exist`);
    }
    const params = new URLSearchParams({ taskid: task.id });
    let qs = params.toString();
    qs += ref.setup ? '&setup' : `&step=${ref.step}`;
    if (follow) qs += '&follow';
    const ac = new AbortController();
    reply.raw.once('close', () => ac.abort());
    const res = await fetch(
      `${executor.listenURL.replace(/\/+$/, '')}/api/v1alpha/executor/logs?${qs}`,
      { signal: AbortSignal.any([ac.signal, engine.signal]) },
    );
    if (res.status === 404) {
      await res.body?.cancel();
      throw notFound('no log on executor');
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      throw new Error(`executor answered ${res.status} to a log request`);
    }
    return reply
      .header('cache-control', 'no-cache')
      .type('text/plain; charset=utf-8')
      .send(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
  });

  api.delete('/logs', async (req, reply) => {
    const ref = logRef(queryOf(req.query));
    const { fetched, key } = await logTarget(ref);
    if (!fetched) {
      throw invalidState(`log for task ${ref.taskId} in run ${ref.runId} is not yet archived`);
    }
    try {
      await engine.deps.ost.stat(key);
    } catch (err) {
      if (isNotExist(err)) throw notFound("log doesn't exist");
      throw err;
    }
    await engine.deps.ost.delete(key);
    return reply.code(200).send();
  });

  api.get('/executor/archives', async (req, reply) => {
    const q = queryOf(req.query);
    const taskId = first(q, 'taskid') ?? '';
    if (taskId === '' || taskId.includes('/') || taskId.startsWith('.')) {
      throw invalid('taskid is empty or invalid');
    }
    const stepText = first(q, 'step') ?? '';
    if (!/^\d{1,6}$/.test(stepText)) throw invalid('step is not a valid number');
    return sendObject(ost, ostKeys.archive(taskId, Number(stepText)), reply, 'archive');
  });

  const cacheRead = async (
    req: { url: string; query: unknown; method: string },
    reply: FastifyReply,
  ) => {
    const key = cacheKeyOf(req.url);
    const matched = await matchCache(ost, key, queryOf(req.query).has('prefix'));
    if (!matched) throw notFound('cache not found');
    if (req.method === 'HEAD') return reply.code(200).send();
    return sendObject(ost, matched, reply, 'cache');
  };
  // fastify answers HEAD with this GET route (method HEAD: no object read)
  api.get('/executor/caches/*', (req, reply) => cacheRead(req, reply));

  // uploads are streams of any type: their own parser, in their own plugin
  const inflight = new Map<string, Promise<void>>();
  void api.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    raw.post('/executor/caches/*', async (req, reply) => {
      const key = cacheKeyOf(req.url);
      const body = (req.body ?? req.raw) as Readable;
      const pending = inflight.get(key);
      if (pending) {
        // another upload of the key is running here: it wins
        await pending.catch(() => undefined);
        body.resume();
        return reply.code(304).send();
      }
      if (await matchCache(ost, key, false)) {
        body.resume();
        return reply.code(304).send();
      }
      const lenText = req.headers['content-length'];
      const len = lenText !== undefined && /^\d{1,15}$/.test(lenText) ? Number(lenText) : undefined;
      const write = ost.write(ostKeys.cache(key), body, len !== undefined ? { size: len } : {});
      inflight.set(key, write);
      try {
        await write;
      } finally {
        inflight.delete(key);
      }
      return reply.code(200).send();
    });
  });
}
