import { setTimeout as sleep } from 'node:timers/promises';
import { AgolaError, badRequest, is, wrap } from '@agola-ts/errors';
import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import {
  CONFIG_FILE_PATHS,
  RunconfigErrorCodes,
  parseConfig,
  planRuns,
  setupErrorRun,
  staticEnvironment,
  whenTargetOf,
  type Config,
  type ConfigContext,
  type ConfigValue,
  type JsonnetEvaluator,
  type PlannedRun,
  type RefType,
} from '@agola-ts/runconfig';
import {
  plannedRunToCreateRequest,
  type RunCreateResponse,
  type RunserviceClient,
} from '@agola-ts/runservice-client';
import { SECRET_ENV_ANNOTATION, type Project } from '@agola-ts/types';
import { GatewayErrorCodes } from '../codes.js';
import { projectRunVariables } from './variables.js';

/** Run annotation keys the gateway sets on every run it creates (Agola's names). */
export const RunAnnotations = {
  RunType: 'run_type',
  RefType: 'ref_type',
  ProjectID: 'projectid',
  UserID: 'userid',
  RunCreationTrigger: 'run_creation_trigger',
  WebhookEvent: 'webhook_event',
  WebhookSender: 'webhook_sender',
  CommitSHA: 'commit_sha',
  Ref: 'ref',
  Message: 'message',
  CommitLink: 'commit_link',
  CompareLink: 'compare_link',
  Branch: 'branch',
  BranchLink: 'branch_link',
  Tag: 'tag',
  TagLink: 'tag_link',
  PullRequestID: 'pull_request_id',
  PullRequestLink: 'pull_request_link',
  /**
   * Agola-TS addition: JSON object `{"<task id>": ["ENV_NAME", ...]}` naming, per task, the
   * environment variables (task, container or step level) whose value came from a project
   * variable, i.e. from a secret. Only names are listed, never values; the executor masks the
   * values of these names in the task's logs. Absent when no task uses a variable.
   */
} as const;

/** Run annotation with the approvers of a task (a JSON array of user ids), as Agola's. */
export const APPROVERS_ANNOTATION = 'approvers';

/** Whether a run belongs to a project or is a user's direct run. */
export type RunType = 'project' | 'user';

/** What created a run. */
export type RunCreationTrigger = 'webhook' | 'manual';

/** The subset of a git source that run creation uses: reading a file at a commit. */
export interface ConfigFileSource {
  getFile(
    repoPath: string,
    commit: string,
    file: string,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array>;
}

/** Everything needed to create the runs of a commit (Agola's `CreateRunRequest`). */
export interface CreateRunsRequest {
  runType: RunType;
  refType: RefType;
  trigger: RunCreationTrigger;
  /** The project (project runs). */
  project?: Pick<Project, 'id' | 'pass_vars_to_forked_pr'>;
  /** The user (user direct runs). */
  userId?: string;
  /** The repository path at the git source (`owner/repo`). */
  repoPath: string;
  /** Where the config file is read. */
  gitSource: ConfigFileSource;
  commitSHA: string;
  /** The commit message (required, as Agola's). */
  message: string;
  /** The full ref (`refs/heads/main`...). */
  ref: string;
  branch?: string;
  tag?: string;
  pullRequestID?: string;
  /** A pull request from the same repository (not a fork). */
  prFromSameRepo?: boolean;
  sshPrivKey?: string;
  sshHostKey?: string;
  skipSshHostKeyCheck?: boolean;
  /** URL the clone step clones from. */
  cloneURL: string;
  /**
   * Static environment names whose values are masked in the step logs like secrets (a clone
   * URL that carries a token).
   */
  maskedStaticEnvironment?: readonly string[];
  webhookEvent?: string;
  webhookSender?: string;
  commitLink?: string;
  compareLink?: string;
  branchLink?: string;
  tagLink?: string;
  pullRequestLink?: string;
  /** User direct runs: the repo's uuid, for the cache group. */
  userRunRepoUUID?: string;
  /** User direct runs: the variables given with the request. */
  variables?: Record<string, string>;
}

/** Backoff of the config file fetch. */
export interface FetchBackoff {
  /** Attempts. @default 4 */
  steps: number;
  /** First wait in ms. @default 500 */
  initialMs: number;
  /** Wait multiplier. @default 2 */
  factor: number;
  /** Random extra wait, as a fraction of the wait. @default 0.1 */
  jitter: number;
}

/** Agola's `FetchFileBackoff`: 4 attempts, 500 ms, factor 2, jitter 0.1. */
export const DEFAULT_FETCH_BACKOFF: FetchBackoff = {
  steps: 4,
  initialMs: 500,
  factor: 2,
  jitter: 0.1,
};

/** The logger run creation writes to (a pino subset). */
export interface RunsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The services run creation talks to. */
export interface CreateRunsDeps {
  configstore: ConfigstoreClient;
  runservice: RunserviceClient;
  log: RunsLogger;
  /** @default DEFAULT_FETCH_BACKOFF */
  fetchBackoff?: FetchBackoff;
  /** Evaluates `.agola/config.jsonnet` (default: the `jsonnet` executable). */
  jsonnet?: JsonnetEvaluator;
}

/** What {@link createRuns} did. */
export interface CreateRunsResult {
  /** The runs created, in config order (one "Setup Error" run for a broken config). */
  runs: RunCreateResponse[];
  /** The config file used. */
  configPath: string;
  /** The commit message contains `[ci skip]`: nothing was created. */
  ciSkip: boolean;
  /** Runs whose `when` did not match the ref. */
  skippedRuns: string[];
}

const USER_CONFIG_ERRORS: readonly string[] = [
  RunconfigErrorCodes.Parse,
  RunconfigErrorCodes.Invalid,
  RunconfigErrorCodes.TooLarge,
  RunconfigErrorCodes.Jsonnet,
  RunconfigErrorCodes.StarlarkUnsupported,
  RunconfigErrorCodes.UnknownFormat,
];

/** Escapes one path segment as Go's `url.PathEscape` (Agola's run group names). */
export function pathEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%(?:24|26|2B|3A|3D|40)/g, (e) => decodeURIComponent(e));
}

/** The base run group of a project or user: `/project/<id>` or `/user/<id>`. */
export function baseRunGroup(runType: RunType, id: string): string {
  return `/${runType}/${id}`;
}

/** The run group of a ref: `/project/<id>/branch/<escaped>`, `/tag/...` or `/pr/<id>`. */
export function runGroupOf(runType: RunType, id: string, refType: RefType, name: string): string {
  const kind = refType === 'pull_request' ? 'pr' : refType;
  return `${baseRunGroup(runType, id)}/${kind}/${pathEscape(name)}`;
}

/** Host and port of a clone URL as Agola computes them (port 22 unless the URL has one). */
function gitHostPort(cloneURL: string): { host: string; port: string } {
  if (cloneURL.includes('://')) {
    try {
      const u = new URL(cloneURL);
      return { host: u.hostname, port: u.port || '22' };
    } catch {
      return { host: '', port: '22' };
    }
  }
  const scp = /^(?:[^@/]+@)?([^:/]+):/.exec(cloneURL);
  return { host: scp?.[1] ?? '', port: '22' };
}

async function fetchConfigFile(
  deps: CreateRunsDeps,
  req: CreateRunsRequest,
  signal: AbortSignal | undefined,
): Promise<{ data: Uint8Array; path: string }> {
  const backoff = deps.fetchBackoff ?? DEFAULT_FETCH_BACKOFF;
  let wait = backoff.initialMs;
  let lastErr: unknown;
  for (let attempt = 1; attempt <= backoff.steps; attempt++) {
    // every candidate asked at once (one forge round trip instead of four), the first
    // present one in Agola's order wins
    const results = await Promise.allSettled(
      CONFIG_FILE_PATHS.map((path) =>
        req.gitSource.getFile(req.repoPath, req.commitSHA, path, { signal }),
      ),
    );
    for (const [i, r] of results.entries()) {
      const path = CONFIG_FILE_PATHS[i] ?? '';
      if (r.status === 'fulfilled') return { data: r.value, path };
      if (signal?.aborted) throw wrap(r.reason, 'fetching the run config');
      lastErr = r.reason;
      deps.log.debug({ err: r.reason, path, attempt }, 'run config file not read');
    }
    if (attempt < backoff.steps) {
      deps.log.info(
        { attempt, waitMs: Math.round(wait), err: lastErr },
        'no run config file read at the commit, retrying',
      );
      await sleep(wait * (1 + Math.random() * backoff.jitter), undefined, { signal });
      wait *= backoff.factor;
    }
  }
  throw new AgolaError(
    `no run config file (${CONFIG_FILE_PATHS.join(', ')}) could be read at commit ${req.commitSHA}`,
    { code: GatewayErrorCodes.ConfigFetch, cause: lastErr },
  );
}

function fromVariableNames(
  env: Readonly<Record<string, ConfigValue>> | undefined,
  variables: Readonly<Record<string, string>>,
  into: Set<string>,
): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    if (value.type === 'from_variable' && Object.hasOwn(variables, value.variable)) {
      into.add(name);
    }
  }
}

/**
 * The environment names whose value comes from a variable (so from a secret), over every task
 * of the run (task, container and run step environments), sorted: the value of
 * {@link SECRET_ENV_ANNOTATION}. One list per run, not per task: restarts give re-run tasks
 * new ids, and masking a value in a task that does not have it costs nothing.
 */
export function secretEnvironmentNames(
  config: Config,
  planned: PlannedRun,
  variables: Readonly<Record<string, string>>,
): string[] {
  const run = config.runs.find((r) => r.name === planned.name);
  if (!run) return [];
  const names = new Set<string>();
  for (const task of Object.values(planned.tasks)) {
    const ct = run.tasks.find((t) => t.name === task.name);
    if (!ct) continue;
    fromVariableNames(ct.environment, variables, names);
    for (const c of ct.runtime.containers) fromVariableNames(c.environment, variables, names);
    for (const s of ct.steps) {
      if (s.type === 'run') fromVariableNames(s.environment, variables, names);
    }
  }
  return [...names].sort();
}

/**
 * Creates the runs of a commit, as Agola's `CreateRuns`: reads `.agola/config.*` at the
 * commit (`.star`, `.jsonnet`, `.json`, `.yml`, with backoff), resolves the variables (project
 * runs; none for a pull request from a fork unless the project allows it), plans the runs
 * (`[ci skip]`, run and task `when`) and posts each to the runservice with the static
 * environment and the annotations. A config that cannot be parsed yields one "Setup Error"
 * run carrying the errors.
 *
 * @throws ApiError 400 when the commit sha or message is missing; `ERR_GATEWAY_CONFIG_FETCH`
 * when no config file can be read; the runservice's errors.
 */
export async function createRuns(
  deps: CreateRunsDeps,
  req: CreateRunsRequest,
  options: { signal?: AbortSignal } = {},
): Promise<CreateRunsResult> {
  const { signal } = options;
  if (!req.commitSHA)
    throw badRequest('empty commit SHA', { code: GatewayErrorCodes.InvalidRequest });
  if (!req.message) throw badRequest('empty message', { code: GatewayErrorCodes.InvalidRequest });
  const ownerId = req.runType === 'project' ? req.project?.id : req.userId;
  if (!ownerId) throw badRequest(`a ${req.runType} run needs its ${req.runType}`);

  const groupName =
    req.refType === 'branch'
      ? (req.branch ?? '')
      : req.refType === 'tag'
        ? (req.tag ?? '')
        : (req.pullRequestID ?? '');
  const group = runGroupOf(req.runType, ownerId, req.refType, groupName);
  const context: ConfigContext = {
    ref_type: req.refType,
    ref: req.ref,
    branch: req.branch ?? '',
    tag: req.tag ?? '',
    pull_request_id: req.pullRequestID ?? '',
    commit_sha: req.commitSHA,
  };
  const { host, port } = gitHostPort(req.cloneURL);
  const env = staticEnvironment({
    context,
    repositoryUrl: req.cloneURL,
    gitHost: host,
    gitPort: port,
    ...(req.sshPrivKey ? { sshPrivateKey: req.sshPrivKey } : {}),
    ...(req.sshHostKey ? { sshHostKey: req.sshHostKey } : {}),
    ...(req.skipSshHostKeyCheck ? { skipSshHostKeyCheck: true } : {}),
  });

  // the project's variables are read while the config is fetched
  let variablesRead: Promise<Record<string, string>> = Promise.resolve({
    ...(req.variables ?? {}),
  });
  if (req.runType === 'project') {
    const allowed =
      req.refType !== 'pull_request' ||
      req.prFromSameRepo === true ||
      req.project?.pass_vars_to_forked_pr === true;
    variablesRead = allowed
      ? projectRunVariables(
          deps.configstore,
          ownerId,
          whenTargetOf(context),
          signal ? { signal } : {},
        ).catch((err: unknown) => {
          throw wrap(err, 'reading the project variables');
        })
      : Promise.resolve({});
  }
  // settled at once: a config fetch failure must not leave it unobserved
  const variablesSettled = variablesRead.then(
    (v) => ({ ok: true as const, v }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const readVariables = async () => {
    const r = await variablesSettled;
    if (!r.ok) throw r.err;
    return r.v;
  };

  const annotations: Record<string, string> = {
    [RunAnnotations.RunType]: req.runType,
    [RunAnnotations.RefType]: req.refType,
    [RunAnnotations.RunCreationTrigger]: req.trigger,
    [RunAnnotations.WebhookEvent]: req.webhookEvent ?? '',
    [RunAnnotations.WebhookSender]: req.webhookSender ?? '',
    [RunAnnotations.CommitSHA]: req.commitSHA,
    [RunAnnotations.Ref]: req.ref,
    [RunAnnotations.Message]: req.message,
    [RunAnnotations.CommitLink]: req.commitLink ?? '',
    [RunAnnotations.CompareLink]: req.compareLink ?? '',
  };
  if (req.runType === 'project') annotations[RunAnnotations.ProjectID] = ownerId;
  else annotations[RunAnnotations.UserID] = ownerId;
  if (req.branch) {
    annotations[RunAnnotations.Branch] = req.branch;
    annotations[RunAnnotations.BranchLink] = req.branchLink ?? '';
  }
  if (req.tag) {
    annotations[RunAnnotations.Tag] = req.tag;
    annotations[RunAnnotations.TagLink] = req.tagLink ?? '';
  }
  if (req.pullRequestID) {
    annotations[RunAnnotations.PullRequestID] = req.pullRequestID;
    annotations[RunAnnotations.PullRequestLink] = req.pullRequestLink ?? '';
  }
  const cacheGroup = req.runType === 'user' ? `${ownerId}-${req.userRunRepoUUID ?? ''}` : '';

  const file = await fetchConfigFile(deps, req, signal);
  const call = signal ? { signal } : {};
  let config: Config;
  try {
    config = await parseConfig(file.data, {
      path: file.path,
      context,
      ...(deps.jsonnet ? { jsonnet: deps.jsonnet } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (!(err instanceof AgolaError) || !USER_CONFIG_ERRORS.some((c) => is(err, c))) {
      throw wrap(err, `parsing ${file.path}`);
    }
    deps.log.info(
      { group, path: file.path, code: err.code },
      'run config is broken: setup error run',
    );
    const planned = setupErrorRun(err, env);
    const created = await deps.runservice.createRun(
      plannedRunToCreateRequest(planned, { group, annotations, cacheGroup }),
      call,
    );
    return { runs: [created], configPath: file.path, ciSkip: false, skippedRuns: [] };
  }

  const variables = await readVariables();
  const plan = planRuns({
    config,
    context,
    variables,
    commitMessage: req.message,
    staticEnvironment: env,
  });
  const result: CreateRunsResult = {
    runs: [],
    configPath: file.path,
    ciSkip: plan.ciSkip,
    skippedRuns: plan.skippedRuns,
  };
  for (const planned of plan.runs) {
    const runAnnotations = { ...annotations };
    const secretEnv = [
      ...new Set([
        ...secretEnvironmentNames(config, planned, variables),
        ...(req.maskedStaticEnvironment ?? []),
      ]),
    ].sort();
    if (secretEnv.length > 0) {
      runAnnotations[SECRET_ENV_ANNOTATION] = JSON.stringify(secretEnv);
    }
    const created = await deps.runservice.createRun(
      plannedRunToCreateRequest(planned, { group, annotations: runAnnotations, cacheGroup }),
      call,
    );
    deps.log.debug({ group, name: planned.name, counter: created.run.counter }, 'run created');
    result.runs.push(created);
  }
  return result;
}
