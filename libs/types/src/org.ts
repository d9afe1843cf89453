import type { Visibility } from './common.js';
import type { User } from './user.js';

/** An organization. */
export interface Org {
  id: string;
  name: string;
  visibility: Visibility;
  creator_user_id?: string;
  /** RFC3339 creation time. */
  created_at?: string;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** A member's role in an org. */
export type MemberRole = 'owner' | 'member';

/** Every {@link MemberRole}. */
export const MEMBER_ROLES: readonly MemberRole[] = ['owner', 'member'];

/**
 * Whether `value` is a {@link MemberRole}.
 *
 * @example
 * ```ts
 * isMemberRole('owner'); // true
 * ```
 */
export function isMemberRole(value: unknown): value is MemberRole {
  return value === 'owner' || value === 'member';
}

/** A user's membership of an org. */
export interface OrgMember {
  id: string;
  organization_id: string;
  user_id: string;
  member_role: MemberRole;
  /** Unused version field of Agola's entities. */
  version?: string;
}

/** Body of `POST /orgs` (Go field names, as Agola's). */
export interface CreateOrgRequest {
  Name: string;
  Visibility: Visibility;
  /** A user (id or name) that becomes the org's owner. */
  CreatorUserID?: string;
}

/** Body of `PUT /orgs/{orgref}/members/{userref}`. */
export interface AddOrgMemberRequest {
  Role: MemberRole;
}

/** An item of `GET /orgs/{orgref}/members`. */
export interface OrgMemberResponse {
  User: User;
  Role: MemberRole;
}

/** An item of `GET /users/{userref}/orgs`. */
export interface UserOrgsResponse {
  Organization: Org;
  Role: MemberRole;
}
