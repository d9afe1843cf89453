import { reactive } from 'vue';
import type { UserOrgsResponse, UserResponse } from '@agola-ts/gateway-client';
import { RemoteError, findCause } from '@agola-ts/errors';
import { api, createApi, endSession, storedCredential } from './api.js';

/** Who is logged in, as the pages need it to decide which actions to offer. */
export interface Session {
  /** The user, or null when logged out or logged in with the admin token. */
  user: UserResponse | null;
  /** The caller may use admin routes (an admin user, or the admin token). */
  admin: boolean;
  /** The user's orgs with the role in each. */
  orgs: UserOrgsResponse[];
  /** The session was loaded (or found empty). */
  loaded: boolean;
}

/** The app's session (reactive). */
export const session: Session = reactive({ user: null, admin: false, orgs: [], loaded: false });

function statusOf(err: unknown): number | undefined {
  return findCause<RemoteError>(err, (e) => e instanceof RemoteError)?.status;
}

/**
 * Loads who the stored credential belongs to. A user token or login JWT gives a user; the
 * admin token gives no user but admin rights. Admin is found by asking an admin-only route.
 *
 * @throws the API error when the credential is refused or the gateway cannot be reached.
 */
export async function loadSession(): Promise<void> {
  const credential = storedCredential();
  if (!credential) {
    Object.assign(session, { user: null, admin: false, orgs: [], loaded: true });
    return;
  }
  // a client of its own: the admin token's 401 on /user must not end the session
  const probe = createApi(credential);
  let user: UserResponse | null = null;
  try {
    user = await probe.getCurrentUser();
  } catch (err) {
    // the admin token is no user: /user says 401, /users answers
    if (statusOf(err) !== 401) throw err;
  }
  let admin = false;
  try {
    await probe.getUsers({ limit: 1 });
    admin = true;
  } catch (err) {
    const s = statusOf(err);
    if (s !== 403 && s !== 401) throw err;
    if (!user) {
      // neither a user nor the admin: the stored credential is no longer valid
      endSession();
      throw err;
    }
  }
  const orgs = user ? await api.getCurrentUserOrgs() : [];
  Object.assign(session, { user, admin, orgs, loaded: true });
}

/** Forgets the session (after log out). */
export function resetSession(): void {
  Object.assign(session, { user: null, admin: false, orgs: [], loaded: true });
}

/** The caller's role in an org: 'owner', 'member' or undefined (admin counts as owner). */
export function orgRole(orgName: string): 'owner' | 'member' | undefined {
  if (session.admin) return 'owner';
  return session.orgs.find((o) => o.Organization.name === orgName)?.Role;
}

/**
 * The caller may change what a path owns (`org/<name>/...` or `user/<name>/...`): an org
 * owner, the user itself, or the admin (the gateway's "owner" check, reference §9.1).
 */
export function canManage(path: string): boolean {
  if (session.admin) return true;
  const [kind, name] = path.split('/');
  if (kind === 'org' && name) return orgRole(name) === 'owner';
  if (kind === 'user' && name) return session.user?.username === name;
  return false;
}
