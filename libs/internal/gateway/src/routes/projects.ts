import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '@agola-ts/errors';
import type { GitSource } from '@agola-ts/gitsources';
import { created, noContent } from '@agola-ts/service-kit';
import type {
  CreateUpdateProjectRequest,
  LinkedAccount,
  ProjectResponse,
  RemoteSource,
  User,
  Visibility,
} from '@agola-ts/types';
import { requireAuth, requireUser } from '../auth.js';
import { GatewayErrorCodes } from '../codes.js';
import type { GatewayContext } from '../context.js';
import { generateSshKeyPair, sshPublicKeyOf } from '../deploy-key.js';
import { isRemoteNotExist, passThrough } from '../downstream.js';
import { loadOwnedProject, loadProject } from '../permissions.js';
import { gitSourceFailure } from '../remote-auth.js';
import {
  bodyOf,
  optBool,
  optString,
  param,
  requiredString,
  str,
  validName,
  visibilityOf,
} from '../request.js';
import { projectResponse } from '../responses.js';
import { gitSourceForAccount } from '../runs/git-source.js';
import { ownedParentGroup } from './project-groups.js';

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest });

/** The title of a project's deploy key on the forge. */
export function deployKeyTitle(projectId: string): string {
  return `agola deploy key - ${projectId}`;
}

/** `<apiExposedURL>/webhooks?agolaid=<id>&projectid=<project id>`: where the forge sends the project's events. */
export function webhookURL(ctx: GatewayContext, projectId: string): string {
  let base = ctx.config.apiExposedURL;
  while (base.endsWith('/')) base = base.slice(0, -1);
  const q = new URLSearchParams({ agolaid: ctx.agolaId, projectid: projectId });
  return `${base}/webhooks?${q.toString()}`;
}

/** The caller's linked account for `rs`. @throws 400 when the caller has none. */
function linkedAccountOf(user: User, rs: RemoteSource): LinkedAccount {
  const la = Object.values(user.linked_accounts ?? {}).find((l) => l.remote_source_id === rs.id);
  if (!la)
    throw invalid(
      `user doesn't have a linked account for remote source ${JSON.stringify(rs.name)}`,
    );
  return la;
}

async function getRemoteSource(ctx: GatewayContext, ref: string): Promise<RemoteSource> {
  try {
    return await ctx.configstore.getRemoteSource(ref);
  } catch (err) {
    throw passThrough(err);
  }
}

/** The git source acting as the project's linked account (its owner user, the account, the remote source). */
async function projectGitSource(ctx: GatewayContext, project: ProjectResponse): Promise<GitSource> {
  const laId = project.linked_account_id ?? '';
  let user: User;
  try {
    user = await ctx.configstore.getUserByQuery({
      query_type: 'bylinkedaccount',
      linkedaccountid: laId,
    });
  } catch (err) {
    if (isRemoteNotExist(err))
      throw invalid('the linked account of the project does not exist anymore');
    throw passThrough(err);
  }
  const la = user.linked_accounts?.[laId];
  if (!la || !Object.hasOwn(user.linked_accounts ?? {}, laId)) {
    throw invalid('the linked account of the project does not exist anymore');
  }
  const rs = await getRemoteSource(ctx, la.remote_source_id ?? project.remote_source_id ?? '');
  return gitSourceForAccount(ctx.configstore, rs, user.id, la, {
    onSaved: () => ctx.cache.clear(),
  });
}

/** Creates (or replaces) the deploy key and the webhook of the project on the forge. */
async function setupRepo(
  ctx: GatewayContext,
  source: GitSource,
  project: ProjectResponse,
): Promise<void> {
  const repo = project.repository_path ?? '';
  const hook = webhookURL(ctx, project.id);
  try {
    await source.updateDeployKey(
      repo,
      deployKeyTitle(project.id),
      sshPublicKeyOf(project.ssh_private_key ?? ''),
      true,
    );
    await source.deleteRepoWebhook(repo, hook);
    await source.createRepoWebhook(repo, hook, project.webhook_secret ?? '');
  } catch (err) {
    throw gitSourceFailure(err, 'setting up the deploy key and the webhook of the repository');
  }
}

/** Removes the project's deploy key and webhook from the forge. */
async function cleanupRepo(
  ctx: GatewayContext,
  source: GitSource,
  project: ProjectResponse,
): Promise<void> {
  const repo = project.repository_path ?? '';
  await source.deleteDeployKey(repo, deployKeyTitle(project.id));
  await source.deleteRepoWebhook(repo, webhookURL(ctx, project.id));
}

function updateRequest(p: ProjectResponse): CreateUpdateProjectRequest {
  return {
    Name: p.name,
    Parent: p.parent,
    Visibility: p.visibility,
    RemoteRepositoryConfigType: p.remote_repository_config_type,
    ...(p.remote_source_id ? { RemoteSourceID: p.remote_source_id } : {}),
    ...(p.linked_account_id ? { LinkedAccountID: p.linked_account_id } : {}),
    ...(p.repository_id ? { RepositoryID: p.repository_id } : {}),
    ...(p.repository_path ? { RepositoryPath: p.repository_path } : {}),
    ...(p.ssh_private_key ? { SSHPrivateKey: p.ssh_private_key } : {}),
    SkipSSHHostKeyCheck: p.skip_ssh_host_key_check === true,
    PassVarsToForkedPR: p.pass_vars_to_forked_pr === true,
  };
}

/**
 * The project routes: `GET /projects/{ref}` (auth optional), `POST /projects` (with the deploy
 * key and the webhook on the forge), `PUT|DELETE /projects/{ref}`, `PUT .../reconfig` and
 * `PUT .../updaterepolinkedaccount`.
 */
export function registerProjectRoutes(
  api: FastifyInstance,
  ctx: GatewayContext,
  options: { deployKeyBits?: number } = {},
): void {
  api.get('/projects/:projectref', async (req) =>
    projectResponse(await loadProject(ctx, req, param(req, 'projectref'))),
  );

  api.post('/projects', async (req: FastifyRequest, reply) => {
    const user = requireUser(req);
    const body = bodyOf(req);
    const parentRef = optString(body, 'parent_ref') || `user/${user.name}`;
    const parent = await ownedParentGroup(ctx, req, parentRef);
    const name = validName(str(body, 'name'), 'project');
    const rsName = requiredString(body, 'remote_source_name', 'remote source name');
    const repoPath = requiredString(body, 'repo_path', 'remote repo path');
    const visibility = visibilityOf(body);
    const projectPath = `${parent.Path}/${name}`;
    try {
      await ctx.configstore.getProject(projectPath);
      throw invalid(`project ${JSON.stringify(projectPath)} already exists`);
    } catch (err) {
      if (!isRemoteNotExist(err)) throw passThrough(err);
    }
    const rs = await getRemoteSource(ctx, rsName);
    const la = linkedAccountOf(user, rs);
    const source = await gitSourceForAccount(ctx.configstore, rs, user.id, la, {
      onSaved: () => ctx.cache.clear(),
    });
    let repo;
    try {
      repo = await source.getRepoInfo(repoPath);
    } catch (err) {
      throw gitSourceFailure(err, `reading repository ${JSON.stringify(repoPath.slice(0, 200))}`);
    }
    const keys = await generateSshKeyPair(options.deployKeyBits);
    let project: ProjectResponse;
    try {
      project = await ctx.configstore.createProject({
        Name: name,
        Parent: { type: 'projectgroup', id: parent.id },
        Visibility: (visibility ?? str(body, 'visibility')) as Visibility,
        RemoteRepositoryConfigType: 'remotesource',
        RemoteSourceID: rs.id,
        LinkedAccountID: la.id,
        RepositoryID: repo.id,
        RepositoryPath: repoPath,
        SSHPrivateKey: keys.privateKey,
        SkipSSHHostKeyCheck: optBool(body, 'skip_ssh_host_key_check') ?? false,
        PassVarsToForkedPR: optBool(body, 'pass_vars_to_forked_pr') ?? false,
      });
    } catch (err) {
      throw passThrough(err);
    }
    try {
      await setupRepo(ctx, source, project);
    } catch (err) {
      req.log.warn({ err }, 'setting up the repository failed: removing the project');
      await ctx.configstore
        .deleteProject(project.id)
        .catch((e: unknown) =>
          req.log.error({ err: e }, 'removing the project after a failed setup'),
        );
      await cleanupRepo(ctx, source, project).catch((e: unknown) =>
        req.log.warn({ err: e }, 'cleaning up the repository after a failed setup'),
      );
      throw err;
    }
    return created(reply, projectResponse(project));
  });

  api.put('/projects/:projectref', async (req, reply) => {
    requireAuth(req);
    const body = bodyOf(req);
    const p = await loadOwnedProject(ctx, req, param(req, 'projectref'));
    const name = optString(body, 'name');
    if (name !== undefined) validName(name, 'project');
    const parentRef = optString(body, 'parent_ref');
    const visibility = visibilityOf(body);
    const passVars = optBool(body, 'pass_vars_to_forked_pr');
    const r = updateRequest(p);
    if (name !== undefined) r.Name = name;
    if (parentRef !== undefined)
      r.Parent = { type: 'projectgroup', id: (await ownedParentGroup(ctx, req, parentRef)).id };
    if (visibility !== undefined) r.Visibility = visibility;
    if (passVars !== undefined) r.PassVarsToForkedPR = passVars;
    try {
      return created(reply, projectResponse(await ctx.configstore.updateProject(p.id, r)));
    } catch (err) {
      throw passThrough(err);
    }
  });

  api.delete('/projects/:projectref', async (req, reply) => {
    requireAuth(req);
    const p = await loadOwnedProject(ctx, req, param(req, 'projectref'));
    // the forge cleanup is best effort: the project goes even if the forge is away
    let source: GitSource | undefined;
    try {
      source = await projectGitSource(ctx, p);
    } catch (err) {
      req.log.warn({ err }, 'cannot reach the project repository for cleanup');
    }
    try {
      await ctx.configstore.deleteProject(p.id);
    } catch (err) {
      throw passThrough(err);
    }
    if (source) {
      await cleanupRepo(ctx, source, p).catch((err: unknown) =>
        req.log.warn({ err }, 'cleaning up the project repository failed'),
      );
    }
    return noContent(reply);
  });

  api.put('/projects/:projectref/reconfig', async (req, reply) => {
    requireAuth(req);
    const p = await loadOwnedProject(ctx, req, param(req, 'projectref'));
    await setupRepo(ctx, await projectGitSource(ctx, p), p);
    return noContent(reply);
  });

  api.put('/projects/:projectref/updaterepolinkedaccount', async (req) => {
    const user = requireUser(req);
    const p = await loadOwnedProject(ctx, req, param(req, 'projectref'));
    const rs = await getRemoteSource(ctx, p.remote_source_id ?? '');
    const la = linkedAccountOf(user, rs);
    const source = await gitSourceForAccount(ctx.configstore, rs, user.id, la, {
      onSaved: () => ctx.cache.clear(),
    });
    try {
      await source.getRepoInfo(p.repository_path ?? '');
    } catch (err) {
      throw gitSourceFailure(err, 'reading the project repository with the new linked account');
    }
    const r = updateRequest(p);
    r.LinkedAccountID = la.id;
    try {
      return projectResponse(await ctx.configstore.updateProject(p.id, r));
    } catch (err) {
      throw passThrough(err);
    }
  });
}
