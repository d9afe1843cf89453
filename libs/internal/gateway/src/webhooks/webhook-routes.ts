import type { FastifyInstance, FastifyRequest } from 'fastify';
import { as, badRequest, is, RemoteError, wrap } from '@agola-ts/errors';
import { GitSourceErrorCodes, type GitSource, type WebhookData } from '@agola-ts/gitsources';
import type { ProjectResponse, RemoteSource } from '@agola-ts/types';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { isRemoteNotExist } from '../downstream.js';
import {
  createRuns,
  type CreateRunsDeps,
  type CreateRunsRequest,
  type RunsLogger,
} from '../runs/create-runs.js';
import { gitSourceForAccount } from '../runs/git-source.js';

/** Longest `projectid` looked up (ids are UUIDs; a path ref is accepted as Agola does). */
export const MAX_PROJECT_ID_LENGTH = 1024;

/** Largest webhook body accepted (as Agola's API body limit). */
export const MAX_WEBHOOK_BODY = 1024 * 1024;

/** Options of {@link registerWebhookRoutes}. */
export interface WebhookRoutesOptions {
  /** Overrides of run creation (tests shorten the config fetch backoff). */
  runs?: Partial<Pick<CreateRunsDeps, 'fetchBackoff' | 'jsonnet'>>;
}

const bad = (message: string, cause?: unknown) =>
  badRequest(message, {
    code: GatewayErrorCodes.WebhookInvalid,
    ...(cause === undefined ? {} : { cause }),
    callerOf: bad,
  });

function queryParam(req: FastifyRequest, name: string): string {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q && Object.hasOwn(q, name) ? q[name] : undefined;
  return typeof v === 'string' ? v : '';
}

/** The run creation request of a parsed webhook (Agola's webhook → `CreateRuns`). */
export function webhookRunRequest(
  data: WebhookData,
  project: ProjectResponse,
  rs: RemoteSource,
  source: GitSource,
): CreateRunsRequest {
  const refType = data.event === 'push' ? 'branch' : data.event === 'tag' ? 'tag' : 'pull_request';
  return {
    runType: 'project',
    refType,
    trigger: 'webhook',
    project,
    repoPath: project.repository_path ?? data.repo.path,
    gitSource: source,
    commitSHA: data.commitSHA,
    message: data.message,
    ref: data.ref,
    ...(data.branch ? { branch: data.branch } : {}),
    ...(data.tag ? { tag: data.tag } : {}),
    ...(data.pullRequestID ? { pullRequestID: data.pullRequestID } : {}),
    prFromSameRepo: data.prFromSameRepo === true,
    ...(project.ssh_private_key ? { sshPrivKey: project.ssh_private_key } : {}),
    ...(rs.ssh_host_key ? { sshHostKey: rs.ssh_host_key } : {}),
    // the remote source's flag, overridden by the project's when true (as Agola)
    skipSshHostKeyCheck:
      project.skip_ssh_host_key_check === true || rs.skip_ssh_host_key_check === true,
    cloneURL: data.sshURL,
    webhookEvent: data.event,
    webhookSender: data.sender,
    ...(data.commitLink ? { commitLink: data.commitLink } : {}),
    ...(data.compareLink ? { compareLink: data.compareLink } : {}),
    ...(data.branchLink ? { branchLink: data.branchLink } : {}),
    ...(data.tagLink ? { tagLink: data.tagLink } : {}),
    ...(data.pullRequestLink ? { pullRequestLink: data.pullRequestLink } : {}),
  };
}

/**
 * Handles one webhook delivery: loads the project (`projectid`), its linked account and remote
 * source, verifies and parses the payload with the project's webhook secret and creates the
 * runs. Returns the number of runs created (0 for an ignored event or `[ci skip]`).
 *
 * @throws ApiError 400 `ERR_GATEWAY_WEBHOOK_INVALID` for a missing or unknown project, a bad
 * signature or an unusable payload; anything else is a 500.
 */
export async function handleWebhook(
  ctx: GatewayContext,
  req: { projectId: string; headers: FastifyRequest['headers']; body: Uint8Array },
  options: WebhookRoutesOptions & { signal?: AbortSignal } = {},
): Promise<number> {
  const log: RunsLogger = ctx.logger;
  if (!req.projectId) throw bad('projectid is required');
  if (req.projectId.length > MAX_PROJECT_ID_LENGTH) throw bad('projectid is too long');
  let project: ProjectResponse;
  try {
    project = await ctx.configstore.getProject(req.projectId);
  } catch (err) {
    // a missing project, or a projectid the configstore refuses as a ref
    const remote = as(err, RemoteError);
    if (isRemoteNotExist(err) || (remote && remote.status >= 400 && remote.status < 500)) {
      throw bad(`project ${JSON.stringify(req.projectId.slice(0, 100))} does not exist`, err);
    }
    throw wrap(err, 'reading the webhook project');
  }
  if (project.remote_repository_config_type !== 'remotesource' || !project.linked_account_id) {
    throw bad('the project is not linked to a remote source');
  }
  const laId = project.linked_account_id;
  const [user, rs] = await Promise.all([
    ctx.configstore.getUserByQuery({ query_type: 'bylinkedaccount', linkedaccountid: laId }),
    ctx.configstore.getRemoteSource(project.remote_source_id ?? ''),
  ]).catch((err: unknown) => {
    throw wrap(err, "reading the project's linked account and remote source");
  });
  const la =
    user.linked_accounts && Object.hasOwn(user.linked_accounts, laId)
      ? user.linked_accounts[laId]
      : undefined;
  if (!la) throw wrap(new Error(`linked account ${laId} not found in its user`), 'webhook');
  const source = await gitSourceForAccount(ctx.configstore, rs, user.id, la, {
    onSaved: () => ctx.cache.clear(),
  });

  let data: WebhookData | null;
  try {
    data = source.parseWebhook(
      { headers: req.headers, body: req.body },
      project.webhook_secret ?? '',
    );
  } catch (err) {
    if (is(err, GitSourceErrorCodes.WebhookSignature)) {
      throw badRequest('webhook signature mismatch', {
        code: GatewayErrorCodes.WebhookSignature,
        cause: err,
      });
    }
    if (
      is(err, GitSourceErrorCodes.WebhookInvalid) ||
      is(err, GitSourceErrorCodes.UnsupportedRef)
    ) {
      throw bad(`invalid webhook: ${(err as Error).message}`, err);
    }
    throw wrap(err, 'parsing the webhook');
  }
  if (!data) {
    log.debug({ projectId: project.id }, 'webhook event ignored');
    return 0;
  }
  const result = await createRuns(
    { configstore: ctx.configstore, runservice: ctx.runservice, log, ...options.runs },
    webhookRunRequest(data, project, rs, source),
    options.signal ? { signal: options.signal } : {},
  );
  log.info(
    { projectId: project.id, event: data.event, runs: result.runs.length, ciSkip: result.ciSkip },
    'webhook handled',
  );
  return result.runs.length;
}

/**
 * Registers `POST /webhooks?projectid=<id>&agolaid=<id>` on the gateway's root server (outside
 * the API prefix): the forges' webhook deliveries. The body is kept raw (signatures cover the
 * exact bytes). 200 with an empty body when handled (also for an ignored event), 400 for a bad
 * request or signature (nothing is created), 500 otherwise.
 */
export function registerWebhookRoutes(
  server: FastifyInstance,
  ctx: GatewayContext,
  options: WebhookRoutesOptions = {},
): void {
  void server.register(async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_WEBHOOK_BODY },
      (_req, body, done) => {
        done(null, body);
      },
    );
    app.post('/webhooks', { bodyLimit: MAX_WEBHOOK_BODY }, async (req, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await handleWebhook(
        ctx,
        { projectId: queryParam(req, 'projectid'), headers: req.headers, body },
        options,
      );
      return reply.status(200).send();
    });
  });
}
