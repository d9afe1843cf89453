import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notExist, wrap } from '@agola-ts/errors';
import type { LogRef } from '@agola-ts/runservice-client';
import {
  RUN_PHASES,
  RUN_RESULTS,
  type RunPhase,
  type RunResponse,
  type RunResult,
} from '@agola-ts/types';
import { requireAuth, requireUser } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { passThrough } from '../downstream.js';
import {
  canDoRunActions,
  canDoUserRunActions,
  canGetProject,
  canGetUserRuns,
  readTtl,
} from '../permissions.js';
import {
  APPROVERS_ANNOTATION,
  baseRunGroup,
  createRuns,
  pathEscape,
  type CreateRunsDeps,
  type RunType,
} from './create-runs.js';
import { gitSourceForAccount } from './git-source.js';
import { runResponse, runsResponse, runTaskResponse } from './run-response.js';
import { badgeSvg, badgeOfRun } from './badge.js';
import { registerDirectRunRoutes } from './direct-runs.js';

/** Default and largest number of runs a list returns (Agola's). */
export const DEFAULT_RUNS_LIMIT = 25;
/** Largest `limit` of a run list. */
export const MAX_RUNS_LIMIT = 40;

/** Options of {@link registerRunRoutes}. */
export interface RunRoutesOptions {
  /** Overrides of run creation (tests shorten the config fetch backoff). */
  runs?: Partial<Pick<CreateRunsDeps, 'fetchBackoff' | 'jsonnet'>>;
}

type Params = Record<string, string | undefined>;
type Query = Record<string, string | string[] | undefined>;

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest, callerOf: invalid });

function param(req: FastifyRequest, name: string): string {
  const p = req.params as Params;
  const v = Object.hasOwn(p, name) ? p[name] : undefined;
  if (!v) throw invalid(`${name} is empty`);
  return v;
}

function queryValues(req: FastifyRequest, name: string): string[] {
  const q = (req.query ?? {}) as Query;
  const v = Object.hasOwn(q, name) ? q[name] : undefined;
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

const hasQuery = (req: FastifyRequest, name: string) =>
  Object.hasOwn((req.query ?? {}) as Query, name);

function runNumber(req: FastifyRequest): number {
  const s = param(req, 'runnumber');
  if (!/^\d{1,15}$/.test(s))
    throw invalid(`cannot parse run number ${JSON.stringify(s.slice(0, 30))}`);
  return Number(s);
}

/** The run's group owner: a project (by ref) or a user (by ref), with the caller's rights on it. */
interface GroupOwner {
  type: RunType;
  id: string;
  canRead: boolean;
  canAct: boolean;
}

async function ownerOf(
  ctx: GatewayContext,
  req: FastifyRequest,
  type: RunType,
  withActions: boolean,
): Promise<GroupOwner> {
  try {
    const ttl = () => readTtl(ctx, req);
    // a write (run action, approval, log deletion) checks with what the configstore has now
    const kept = { reuseKept: req.method === 'GET' };
    if (type === 'project') {
      const ref = param(req, 'projectref');
      const project = await ctx.cache.get(
        `project:${ref}`,
        () => ctx.configstore.getProject(ref),
        ttl,
        kept,
      );
      const canRead = await canGetProject(ctx, req, project);
      const canAct = withActions ? await canDoRunActions(ctx, req, project) : false;
      return { type, id: project.id, canRead, canAct };
    }
    const ref = param(req, 'userref');
    const user = await ctx.cache.get(`user:${ref}`, () => ctx.configstore.getUser(ref), ttl, kept);
    return {
      type,
      id: user.id,
      canRead: canGetUserRuns(req, user.id),
      canAct: canDoUserRunActions(req, user.id),
    };
  } catch (err) {
    throw passThrough(err);
  }
}

const notAuthorized = () =>
  forbidden('user not authorized', { code: GatewayErrorCodes.Forbidden, callerOf: notAuthorized });

async function readableOwner(ctx: GatewayContext, req: FastifyRequest, type: RunType) {
  const owner = await ownerOf(ctx, req, type, false);
  if (!owner.canRead) throw notAuthorized();
  return owner;
}

async function actingOwner(ctx: GatewayContext, req: FastifyRequest, type: RunType) {
  const owner = await ownerOf(ctx, req, type, true);
  if (!owner.canAct) throw notAuthorized();
  return owner;
}

/** Run `n` of the owner's group; archived runs (immutable) are kept a while. */
async function runOf(ctx: GatewayContext, owner: GroupOwner, n: number): Promise<RunResponse> {
  const group = baseRunGroup(owner.type, owner.id);
  try {
    return await ctx.cache.get(
      `run:${group}:${n}`,
      () => ctx.runservice.getRunByGroup(group, n),
      (r) => (r.run.archived === true ? ctx.cacheSettings.archivedRunTtlMs : 0),
    );
  } catch (err) {
    throw passThrough(err);
  }
}

function logRef(req: FastifyRequest, runId: string, taskId: string): LogRef {
  const setup = hasQuery(req, 'setup');
  const steps = queryValues(req, 'step');
  if (setup && steps.length > 0) throw invalid('setup and step are exclusive');
  if (setup) return { runId, taskId, setup: true };
  const step = steps[0];
  if (step === undefined || !/^-?\d{1,6}$/.test(step)) throw invalid('step or setup is required');
  return { runId, taskId, step: Number(step) };
}

function registerGroupRoutes(
  api: FastifyInstance,
  ctx: GatewayContext,
  type: RunType,
  base: string,
): void {
  const rs = ctx.runservice;

  api.get(`${base}/runs`, async (req) => {
    requireAuth(req);
    const owner = await readableOwner(ctx, req, type);
    const phases = queryValues(req, 'phase');
    const results = queryValues(req, 'result');
    for (const p of phases) {
      if (!(RUN_PHASES as readonly string[]).includes(p))
        throw invalid(`unknown phase ${JSON.stringify(p.slice(0, 30))}`);
    }
    for (const r of results) {
      if (!(RUN_RESULTS as readonly string[]).includes(r))
        throw invalid(`unknown result ${JSON.stringify(r.slice(0, 30))}`);
    }
    let limit = DEFAULT_RUNS_LIMIT;
    const limitS = queryValues(req, 'limit')[0];
    if (limitS !== undefined && limitS !== '') {
      if (!/^\d{1,6}$/.test(limitS)) throw invalid('cannot parse limit');
      limit = Number(limitS);
    }
    if (limit < 0) throw invalid('limit must be greater or equal than 0');
    if (limit > MAX_RUNS_LIMIT) limit = MAX_RUNS_LIMIT;
    const startS = queryValues(req, 'start')[0];
    let start: number | undefined;
    if (startS !== undefined && startS !== '') {
      if (!/^\d{1,15}$/.test(startS)) throw invalid('cannot parse run number');
      start = Number(startS);
    }
    const subgroup = queryValues(req, 'subgroup')[0] ?? '';
    if (subgroup.split('/').some((s) => s === '..' || s === '.')) throw invalid('invalid subgroup');
    const group = [
      baseRunGroup(type, owner.id),
      ...subgroup.split('/').filter((s) => s !== ''),
    ].join('/');
    try {
      const res = await rs.getGroupRuns(group, {
        phase: phases as RunPhase[],
        result: results as RunResult[],
        ...(limit > 0 ? { limit } : {}),
        asc: hasQuery(req, 'asc'),
        ...(start !== undefined ? { start } : {}),
      });
      return res.runs.map(runsResponse);
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.get(`${base}/runs/:runnumber`, async (req) => {
    const owner = await readableOwner(ctx, req, type);
    const r = await runOf(ctx, owner, runNumber(req));
    return runResponse(r.run, r.run_config);
  });

  api.put(`${base}/runs/:runnumber/actions`, async (req) => {
    requireAuth(req);
    const owner = await actingOwner(ctx, req, type);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = body['action_type'];
    let r = await runOf(ctx, owner, runNumber(req));
    const runId = r.run.id;
    try {
      switch (action) {
        case 'restart': {
          const created = await rs.createRun({
            run_id: runId,
            from_start: body['from_start'] === true,
          });
          return runResponse(created.run, created.run_config);
        }
        case 'cancel':
          await rs.runAction(runId, { action_type: 'changephase', phase: 'cancelled' });
          break;
        case 'stop':
          await rs.runAction(runId, { action_type: 'stop' });
          break;
        default:
          throw invalid(`wrong run action type ${JSON.stringify(String(action).slice(0, 30))}`);
      }
      r = await rs.getRun(runId);
    } catch (err) {
      throw passThrough(err);
    }
    return runResponse(r.run, r.run_config);
  });

  api.get(`${base}/runs/:runnumber/tasks/:taskid`, async (req) => {
    const owner = await readableOwner(ctx, req, type);
    const r = await runOf(ctx, owner, runNumber(req));
    const taskId = param(req, 'taskid');
    const rt = Object.hasOwn(r.run.tasks, taskId) ? r.run.tasks[taskId] : undefined;
    if (!rt)
      throw notExist(`run ${r.run.counter} task ${JSON.stringify(taskId.slice(0, 100))} not found`);
    const rct = Object.hasOwn(r.run_config.tasks, taskId) ? r.run_config.tasks[taskId] : undefined;
    return runTaskResponse(rt, rct);
  });

  api.put(`${base}/runs/:runnumber/tasks/:taskid/actions`, async (req, reply) => {
    const user = requireUser(req);
    const owner = await actingOwner(ctx, req, type);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const r = await runOf(ctx, owner, runNumber(req));
    const taskId = param(req, 'taskid');
    if (body['action_type'] !== 'approve') {
      throw invalid(
        `wrong run task action type ${JSON.stringify(String(body['action_type']).slice(0, 30))}`,
      );
    }
    const rt = Object.hasOwn(r.run.tasks, taskId) ? r.run.tasks[taskId] : undefined;
    if (!rt)
      throw invalid(
        `run ${r.run.counter} doesn't have task ${JSON.stringify(taskId.slice(0, 100))}`,
      );
    const annotations = { ...(rt.annotations ?? {}) };
    let approvers: string[] = [];
    const raw = Object.hasOwn(annotations, APPROVERS_ANNOTATION)
      ? annotations[APPROVERS_ANNOTATION]
      : undefined;
    if (raw) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (Array.isArray(parsed))
          approvers = parsed.filter((a): a is string => typeof a === 'string');
      } catch (err) {
        throw wrap(err, 'reading the task approvers annotation');
      }
    }
    if (approvers.includes(user.id))
      throw invalid(`user ${JSON.stringify(user.id)} already approved the task`);
    approvers.push(user.id);
    annotations[APPROVERS_ANNOTATION] = JSON.stringify(approvers);
    try {
      await rs.setRunTaskAnnotations(r.run.id, taskId, annotations, r.change_groups_update_tokens);
    } catch (err) {
      throw passThrough(err);
    }
    return reply.status(200).send();
  });

  const logsPath = `${base}/runs/:runnumber/tasks/:taskid/logs`;
  api.get(logsPath, async (req, reply: FastifyReply) => {
    const owner = await readableOwner(ctx, req, type);
    const r = await runOf(ctx, owner, runNumber(req));
    const ref = logRef(req, r.run.id, param(req, 'taskid'));
    const abort = new AbortController();
    // the response closing (done, or the client gone) ends the upstream log request
    reply.raw.once('close', () => abort.abort());
    let chunks: AsyncIterable<Uint8Array>;
    try {
      chunks = await rs.getLogs(ref, { follow: hasQuery(req, 'follow') }, { signal: abort.signal });
    } catch (err) {
      throw passThrough(err);
    }
    const stream = Readable.from(chunks, { objectMode: false });
    stream.on('error', (err) => {
      if (!abort.signal.aborted) req.log.warn({ err }, 'log stream failed');
    });
    reply.header('cache-control', 'no-cache');
    reply.header('content-type', 'text/plain; charset=utf-8');
    return reply.send(stream);
  });

  api.delete(logsPath, async (req, reply) => {
    requireAuth(req);
    const owner = await actingOwner(ctx, req, type);
    const r = await runOf(ctx, owner, runNumber(req));
    try {
      await rs.deleteLogs(logRef(req, r.run.id, param(req, 'taskid')));
    } catch (err) {
      throw passThrough(err);
    }
    return reply.status(200).send();
  });
}

/**
 * Registers the run routes on the API scope: the runs, tasks, logs, run actions and task
 * approvals of projects (`/projects/{projectref}/runs...`) and of users' direct runs
 * (`/users/{userref}/runs...`), the manual run creation `POST /projects/{ref}/createrun`, and
 * the badges `GET /badges/{projectref}`. Runs are addressed by their number (counter), never
 * by their id. Reading needs the project to be public or the caller a member; actions need an
 * owner; user runs are the user's (or the admin's).
 */
export function registerRunRoutes(
  api: FastifyInstance,
  ctx: GatewayContext,
  options: RunRoutesOptions = {},
): void {
  registerGroupRoutes(api, ctx, 'project', '/projects/:projectref');
  registerGroupRoutes(api, ctx, 'user', '/users/:userref');
  registerDirectRunRoutes(api, ctx, options);

  api.post('/projects/:projectref/createrun', async (req, reply) => {
    const user = requireUser(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => {
      const v = body[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw invalid(`${k} must be a string`);
      return v;
    };
    const branch = str('branch');
    const tag = str('tag');
    let refName = str('ref');
    let commitSHA = str('commit_sha');
    let project;
    let rs;
    let fullUser;
    try {
      project = await ctx.configstore.getProject(param(req, 'projectref'));
      if (!(await canDoRunActions(ctx, req, project))) throw notAuthorized();
      [rs, fullUser] = await Promise.all([
        ctx.configstore.getRemoteSource(project.remote_source_id ?? ''),
        ctx.configstore.getUser(user.id),
      ]);
    } catch (err) {
      throw passThrough(err);
    }
    const la = Object.values(fullUser.linked_accounts ?? {}).find(
      (l) => l.remote_source_id === rs.id,
    );
    if (!la)
      throw invalid(
        `user doesn't have a linked account for remote source ${JSON.stringify(rs.name)}`,
      );
    const set = [branch, tag, refName].filter((s) => s !== '').length;
    if (set === 0) throw invalid('one of branch, tag or ref is required');
    if (set > 1) throw invalid('only one of branch, tag or ref can be provided');
    const source = await gitSourceForAccount(ctx.configstore, rs, fullUser.id, la, {
      onSaved: () => ctx.cache.clear(),
    });
    const repoPath = project.repository_path ?? '';
    const repo = await source.getRepoInfo(repoPath).catch((err: unknown) => {
      throw wrap(err, 'reading the repository from the git source');
    });
    if (refName === '') refName = branch ? source.branchRef(branch) : source.tagRef(tag);
    let parsed;
    try {
      parsed = source.refType(refName);
    } catch (err) {
      throw badRequest(`unsupported ref ${JSON.stringify(refName.slice(0, 100))}`, {
        code: GatewayErrorCodes.InvalidRequest,
        cause: err,
      });
    }
    if (parsed.type === 'pull_request')
      throw invalid('manual runs on a pull request are not supported');
    const ref = await source.getRef(repoPath, refName).catch((err: unknown) => {
      throw wrap(err, 'reading the ref from the git source');
    });
    if (commitSHA === '') commitSHA = ref.commitSHA;
    const commit = await source.getCommit(repoPath, commitSHA).catch((err: unknown) => {
      throw wrap(err, 'reading the commit from the git source');
    });
    const isBranch = parsed.type === 'branch';
    await createRuns(
      {
        configstore: ctx.configstore,
        runservice: ctx.runservice,
        log: ctx.logger,
        ...options.runs,
      },
      {
        runType: 'project',
        refType: parsed.type,
        trigger: 'manual',
        project,
        repoPath,
        gitSource: source,
        commitSHA: commit.sha,
        message: isBranch ? commit.message : `Tag ${parsed.name}`,
        ref: refName,
        ...(isBranch
          ? { branch: parsed.name, branchLink: source.branchLink(repo, parsed.name) }
          : { tag: parsed.name, tagLink: source.tagLink(repo, parsed.name) }),
        ...(project.ssh_private_key ? { sshPrivKey: project.ssh_private_key } : {}),
        ...(rs.ssh_host_key ? { sshHostKey: rs.ssh_host_key } : {}),
        skipSshHostKeyCheck:
          project.skip_ssh_host_key_check === true || rs.skip_ssh_host_key_check === true,
        cloneURL: repo.sshCloneURL,
        commitLink: source.commitLink(repo, commit.sha),
      },
    ).catch((err: unknown) => {
      throw passThrough(err);
    });
    return reply.status(201).send();
  });

  api.get('/badges/:projectref', async (req, reply) => {
    const branch = queryValues(req, 'branch')[0] ?? '';
    let badge;
    try {
      const project = await ctx.configstore.getProject(param(req, 'projectref'));
      // no branch: the last run of every branch (the group prefix), as Agola's path.Join does
      const group = `${baseRunGroup('project', project.id)}/branch${branch ? `/${pathEscape(branch)}` : ''}`;
      const res = await ctx.runservice.getRuns({ group: [group], lastRun: true });
      badge = badgeOfRun(res.runs[0]);
    } catch (err) {
      throw passThrough(err);
    }
    reply.header('content-type', 'image/svg+xml');
    reply.header('cache-control', 'no-cache');
    return reply.status(200).send(badgeSvg(badge));
  });
}
