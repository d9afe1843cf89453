import { randomBytes } from 'node:crypto';

/** A user of the simulated forge. */
export interface ForgeUser {
  id: number;
  login: string;
  password: string;
  email: string;
}

/** An API token (a personal access token or an OAuth2 access token). */
export interface ForgeToken {
  id: number;
  name: string;
  value: string;
  login: string;
  scopes: string[];
  /** Epoch ms after which the token is refused. */
  expiresAt?: number;
}

/** A deploy key of a repository. */
export interface ForgeDeployKey {
  id: number;
  title: string;
  key: string;
  readOnly: boolean;
  createdAt: string;
}

/** A repository webhook. */
export interface ForgeHook {
  id: number;
  url: string;
  secret: string;
  contentType: string;
  /** Provider event names this hook receives (`push`, `pull_request`, `tag_push`...). */
  events: string[];
  active: boolean;
  createdAt: string;
}

/** A commit status as stored (the provider's own state name). */
export interface ForgeStatus {
  id: number;
  sha: string;
  state: string;
  targetURL: string;
  description: string;
  context: string;
  createdAt: string;
  creator: string;
}

/** Access level of a member on a repo. */
export type ForgeAccess = 'read' | 'write' | 'admin';

/** A repository. */
export interface ForgeRepo {
  id: number;
  owner: string;
  name: string;
  /** `owner/name`. */
  path: string;
  dir: string;
  defaultBranch: string;
  private: boolean;
  members: Map<string, ForgeAccess>;
  keys: ForgeDeployKey[];
  hooks: ForgeHook[];
  statuses: ForgeStatus[];
  pulls: ForgePull[];
}

/** A pull (merge) request. */
export interface ForgePull {
  id: number;
  number: number;
  title: string;
  head: string;
  base: string;
  sha: string;
  fromFork: boolean;
}

/** An OAuth2 application registered on the forge. */
export interface ForgeOAuth2App {
  clientId: string;
  clientSecret: string;
  redirectURI: string;
}

/** Mutable state of one simulator. */
export class ForgeState {
  private seq = 1000;
  readonly users = new Map<string, ForgeUser>();
  readonly tokens = new Map<string, ForgeToken>();
  readonly repos = new Map<string, ForgeRepo>();
  readonly apps = new Map<string, ForgeOAuth2App>();
  /** Authorization codes: code -> grant. */
  readonly codes = new Map<string, { clientId: string; redirectURI: string; login: string }>();
  /** Refresh tokens: value -> grant. */
  readonly refreshTokens = new Map<string, { clientId: string; login: string }>();

  nextId(): number {
    this.seq += 1;
    return this.seq;
  }

  randomToken(bytes = 20): string {
    return randomBytes(bytes).toString('hex');
  }

  repoById(id: number): ForgeRepo | undefined {
    for (const repo of this.repos.values()) if (repo.id === id) return repo;
    return undefined;
  }

  /** The access of `login` on `repo` (owners are admins); undefined when none. */
  access(repo: ForgeRepo, login: string | undefined): ForgeAccess | undefined {
    if (!login) return undefined;
    if (repo.owner === login) return 'admin';
    return repo.members.get(login);
  }

  /** Whether `login` may read `repo` (public repos are readable by anyone). */
  canRead(repo: ForgeRepo, login: string | undefined): boolean {
    return !repo.private || this.access(repo, login) !== undefined;
  }

  /** The user a token value authenticates, when the token is known and unexpired. */
  userOfToken(value: string): ForgeUser | undefined {
    const token = this.tokens.get(value);
    if (!token) return undefined;
    if (token.expiresAt !== undefined && Date.now() >= token.expiresAt) return undefined;
    return this.users.get(token.login);
  }
}
