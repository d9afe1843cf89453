import type { FastifyRequest } from 'fastify';
import { forbidden } from '@agola-ts/errors';
import type {
  OwnerType,
  ProjectGroupResponse,
  ProjectResponse,
  UserOrgsResponse,
} from '@agola-ts/types';
import { GatewayErrorCodes } from './codes.js';
import type { GatewayContext } from './context.js';
import { passThrough } from './downstream.js';

/**
 * How long a permission lookup made for `req` may be reused: the short
 * `permissionsTtlMs` for `GET` requests, nothing (only in-flight sharing) for writes.
 */
export function readTtl(ctx: GatewayContext, req: FastifyRequest): number {
  return req.method === 'GET' ? ctx.cacheSettings.permissionsTtlMs : 0;
}

/** The orgs of each request's user, fetched once per request. */
const orgsOfRequest = new WeakMap<FastifyRequest, Promise<UserOrgsResponse[]>>();

/**
 * Drops the orgs kept for this request: a long request (a run events stream) that checks the
 * caller's access again reads them anew, so a member removed from an org loses its projects.
 */
export function forgetCallerOrgs(req: FastifyRequest): void {
  orgsOfRequest.delete(req);
}

/** The orgs the caller belongs to, with the caller's role (empty for anonymous callers). */
export function callerOrgs(ctx: GatewayContext, req: FastifyRequest): Promise<UserOrgsResponse[]> {
  const user = req.auth.user;
  if (!user) return Promise.resolve([]);
  let orgs = orgsOfRequest.get(req);
  if (!orgs) {
    orgs = ctx.cache
      .get(
        `user-orgs:${user.id}`,
        () => ctx.configstore.getUserOrgs(user.id),
        () => readTtl(ctx, req),
        { reuseKept: req.method === 'GET' },
      )
      .catch((err: unknown) => {
        orgsOfRequest.delete(req);
        throw passThrough(err);
      });
    orgsOfRequest.set(req, orgs);
  }
  return orgs;
}

/** True for the admin, and for an owner of the org `orgId`. */
export async function isOrgOwner(
  ctx: GatewayContext,
  req: FastifyRequest,
  orgId: string,
): Promise<boolean> {
  if (req.auth.isAdmin) return true;
  if (!req.auth.user) return false;
  return (await callerOrgs(ctx, req)).some(
    (o) => o.Organization.id === orgId && o.Role === 'owner',
  );
}

/** True for the admin, and for any member (owner or member) of the org `orgId`. */
export async function isOrgMember(
  ctx: GatewayContext,
  req: FastifyRequest,
  orgId: string,
): Promise<boolean> {
  if (req.auth.isAdmin) return true;
  if (!req.auth.user) return false;
  return (await callerOrgs(ctx, req)).some((o) => o.Organization.id === orgId);
}

/**
 * Owner of what belongs to `(ownerType, ownerId)`: the admin, the user itself for user-owned
 * entities, an org owner for org-owned ones (Agola's `IsProjectOwner`).
 */
export async function isOwner(
  ctx: GatewayContext,
  req: FastifyRequest,
  ownerType: OwnerType,
  ownerId: string,
): Promise<boolean> {
  if (req.auth.isAdmin) return true;
  const user = req.auth.user;
  if (!user) return false;
  if (ownerType === 'user') return user.id === ownerId;
  return isOrgOwner(ctx, req, ownerId);
}

/**
 * Member of what belongs to `(ownerType, ownerId)`: the admin, the user itself, or any
 * member of the owning org (Agola's `IsProjectMember`).
 */
export async function isMember(
  ctx: GatewayContext,
  req: FastifyRequest,
  ownerType: OwnerType,
  ownerId: string,
): Promise<boolean> {
  if (req.auth.isAdmin) return true;
  const user = req.auth.user;
  if (!user) return false;
  if (ownerType === 'user') return user.id === ownerId;
  return isOrgMember(ctx, req, ownerId);
}

type Owned = Pick<ProjectResponse, 'OwnerType' | 'OwnerID' | 'GlobalVisibility'>;

/** May the caller read the project (and its runs): it is globally public, or the caller is a member. */
export async function canGetProject(
  ctx: GatewayContext,
  req: FastifyRequest,
  project: Owned,
): Promise<boolean> {
  if (project.GlobalVisibility === 'public') return true;
  return isMember(ctx, req, project.OwnerType, project.OwnerID);
}

/** May the caller read the project group: it is globally public, or the caller is a member. */
export async function canGetProjectGroup(
  ctx: GatewayContext,
  req: FastifyRequest,
  group: Owned,
): Promise<boolean> {
  return canGetProject(ctx, req, group);
}

/** May the caller change the project (update, delete, secrets, variables): it is an owner. */
export async function canUpdateProject(
  ctx: GatewayContext,
  req: FastifyRequest,
  project: Owned,
): Promise<boolean> {
  return isOwner(ctx, req, project.OwnerType, project.OwnerID);
}

/** May the caller change the project group (and create things in it): it is an owner. */
export async function canUpdateProjectGroup(
  ctx: GatewayContext,
  req: FastifyRequest,
  group: Owned,
): Promise<boolean> {
  return isOwner(ctx, req, group.OwnerType, group.OwnerID);
}

/** May the caller restart, stop or cancel the project's runs and approve tasks: it is an owner. */
export async function canDoRunActions(
  ctx: GatewayContext,
  req: FastifyRequest,
  project: Owned,
): Promise<boolean> {
  return isOwner(ctx, req, project.OwnerType, project.OwnerID);
}

/** May the caller read the direct runs of user `userId` (private: the user itself or the admin). */
export function canGetUserRuns(req: FastifyRequest, userId: string): boolean {
  return req.auth.isAdmin || req.auth.user?.id === userId;
}

/** May the caller act on the direct runs of user `userId` (the user itself or the admin). */
export function canDoUserRunActions(req: FastifyRequest, userId: string): boolean {
  return canGetUserRuns(req, userId);
}

const denied = (what: string, callerOf: (...args: never[]) => unknown) =>
  forbidden(`user not authorized to ${what}`, { code: GatewayErrorCodes.Forbidden, callerOf });

/**
 * Fetches an entity from the configstore (its 404 passed through) and checks the caller may
 * `what` it; the 403 records the route handler's frame (the async caller of this function).
 */
async function loadAllowed<T>(
  fetch: () => Promise<T>,
  allowed: (entity: T) => Promise<boolean>,
  what: string,
): Promise<T> {
  let entity: T;
  try {
    entity = await fetch();
  } catch (err) {
    throw passThrough(err);
  }
  if (!(await allowed(entity))) throw denied(what, loadAllowed);
  return entity;
}

/**
 * The project `ref` (id or path) if the caller may read it.
 *
 * @throws `ApiError` 404 when missing (passed through), 403 `ERR_GATEWAY_FORBIDDEN` when not allowed.
 */
export function loadProject(
  ctx: GatewayContext,
  req: FastifyRequest,
  ref: string,
): Promise<ProjectResponse> {
  return loadAllowed(
    () => ctx.configstore.getProject(ref),
    (p) => canGetProject(ctx, req, p),
    'read this project',
  );
}

/**
 * The project `ref` if the caller owns it (update, delete, secrets, variables, run actions).
 *
 * @throws `ApiError` 404 (passed through) or 403 `ERR_GATEWAY_FORBIDDEN`.
 */
export function loadOwnedProject(
  ctx: GatewayContext,
  req: FastifyRequest,
  ref: string,
): Promise<ProjectResponse> {
  return loadAllowed(
    () => ctx.configstore.getProject(ref),
    (p) => canUpdateProject(ctx, req, p),
    'change this project',
  );
}

/**
 * The project group `ref` if the caller may read it.
 *
 * @throws `ApiError` 404 (passed through) or 403 `ERR_GATEWAY_FORBIDDEN`.
 */
export function loadProjectGroup(
  ctx: GatewayContext,
  req: FastifyRequest,
  ref: string,
): Promise<ProjectGroupResponse> {
  return loadAllowed(
    () => ctx.configstore.getProjectGroup(ref),
    (g) => canGetProjectGroup(ctx, req, g),
    'read this project group',
  );
}

/**
 * The project group `ref` if the caller owns it.
 *
 * @throws `ApiError` 404 (passed through) or 403 `ERR_GATEWAY_FORBIDDEN`.
 */
export function loadOwnedProjectGroup(
  ctx: GatewayContext,
  req: FastifyRequest,
  ref: string,
): Promise<ProjectGroupResponse> {
  return loadAllowed(
    () => ctx.configstore.getProjectGroup(ref),
    (g) => canUpdateProjectGroup(ctx, req, g),
    'change this project group',
  );
}
