import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import { wrap } from '@agola-ts/errors';
import type { LinkedAccount, Project, RemoteSource, User } from '@agola-ts/types';
import { GitSourceErrorCodes } from './codes.js';
import { GitSourceError } from './errors.js';
import { createGitSource, isOAuth2Source } from './factory.js';
import type { GiteaSource } from './gitea.js';
import type { GitHubSource } from './github.js';
import type { GitLabSource } from './gitlab.js';
import type { CallOptions, GitSource } from './types.js';

/** Refresh an OAuth2 access token this long before it expires. */
const REFRESH_MARGIN_MS = 60_000;

/** The configstore calls {@link gitSourceForAccount} and {@link gitSourceForProject} make. */
export type AccountConfigstore = Pick<
  ConfigstoreClient,
  'updateUserLA' | 'getUserByQuery' | 'getRemoteSource'
>;

/**
 * The git source of a remote source (Gitea, GitHub or GitLab at its API URL, with its OAuth2
 * client), acting with `token` (a user access token or an OAuth2 access token), or with none
 * to log in or to exchange an OAuth2 code.
 *
 * @throws GitSourceError `ERR_GITSOURCE_INVALID_CONFIG` for a bad API URL or an unknown type.
 * @example
 * ```ts
 * const source = remoteSourceGitSource(remoteSource, la.user_access_token);
 * const repos = await source.listUserRepos();
 * ```
 */
export function remoteSourceGitSource(
  rs: RemoteSource,
  token?: string,
): GiteaSource | GitHubSource | GitLabSource {
  const common = {
    apiURL: rs.apiurl,
    ...(token ? { token } : {}),
    ...(rs.client_id ? { oauth2ClientID: rs.client_id } : {}),
    ...(rs.client_secret ? { oauth2ClientSecret: rs.client_secret } : {}),
    ...(rs.skip_verify ? { skipVerify: true } : {}),
  };
  switch (rs.type) {
    case 'gitea':
      return createGitSource({ type: 'gitea', ...common });
    case 'github':
      return createGitSource({ type: 'github', ...common });
    case 'gitlab':
      return createGitSource({ type: 'gitlab', ...common });
    default: {
      const never: never = rs.type;
      throw new GitSourceError(`unknown remote source type ${JSON.stringify(String(never))}`, {
        code: GitSourceErrorCodes.InvalidConfig,
      });
    }
  }
}

/**
 * The git source of a remote source acting as a linked account (Agola's `GetGitSource`): the
 * user access token for password sources, the OAuth2 access token otherwise, refreshed (and
 * saved to the configstore, then `onSaved` called) when it expires within a minute.
 *
 * @throws the refresh's error (wrapped) when an expired OAuth2 token cannot be refreshed.
 * @example
 * ```ts
 * const source = await gitSourceForAccount(configstore, remoteSource, user.id, la);
 * await source.createCommitStatus('alice/app', sha, 'pending', { context: 'agola/app/build' });
 * ```
 */
export async function gitSourceForAccount(
  configstore: Pick<ConfigstoreClient, 'updateUserLA'>,
  rs: RemoteSource,
  userId: string,
  la: LinkedAccount,
  options: CallOptions & { onSaved?: () => void } = {},
): Promise<GitSource> {
  if (rs.auth_type === 'password') return remoteSourceGitSource(rs, la.user_access_token);
  let token = la.oauth2_access_token;
  const expiresAt = la.oauth_2_access_token_expires_at
    ? Date.parse(la.oauth_2_access_token_expires_at)
    : NaN;
  if (
    la.oauth2_refresh_token &&
    Number.isFinite(expiresAt) &&
    expiresAt - REFRESH_MARGIN_MS < Date.now()
  ) {
    const source = remoteSourceGitSource(rs, undefined);
    if (isOAuth2Source(source)) {
      try {
        const { onSaved, ...call } = options;
        const fresh = await source.refreshOAuth2Token(la.oauth2_refresh_token, call);
        token = fresh.accessToken;
        await configstore.updateUserLA(
          userId,
          la.id,
          {
            remote_user_id: la.remote_user_id ?? '',
            oauth2_access_token: fresh.accessToken,
            ...(fresh.refreshToken ? { oauth2_refresh_token: fresh.refreshToken } : {}),
            ...(fresh.expiresAt
              ? { oauth_2_access_token_expires_at: fresh.expiresAt.toISOString() }
              : {}),
          },
          call,
        );
        // a caller keeping the user (the gateway's read cache) holds the old tokens
        onSaved?.();
      } catch (err) {
        throw wrap(err, 'refreshing the linked account OAuth2 token');
      }
    }
  }
  return remoteSourceGitSource(rs, token);
}

/** What {@link gitSourceForProject} loads: the source and the entities behind it. */
export interface ProjectGitSource {
  source: GitSource;
  /** The owner of the project's linked account. */
  user: User;
  la: LinkedAccount;
  rs: RemoteSource;
}

/**
 * The git source of a project linked to a remote source: its linked account's owner, the
 * linked account and the remote source from the configstore, then
 * {@link gitSourceForAccount} (refreshing an expired OAuth2 token).
 *
 * @throws `ERR_GITSOURCE_INVALID_CONFIG` when the project has no linked account or the
 *   account is not in its user; the configstore's `RemoteError` (wrapped) when an entity is
 *   missing.
 */
export async function gitSourceForProject(
  configstore: AccountConfigstore,
  project: Pick<Project, 'id' | 'linked_account_id' | 'remote_source_id'>,
  options: CallOptions = {},
): Promise<ProjectGitSource> {
  const laId = project.linked_account_id;
  if (!laId) {
    throw new GitSourceError(`project ${project.id} is not linked to a remote source`, {
      code: GitSourceErrorCodes.InvalidConfig,
    });
  }
  let user: User;
  let rs: RemoteSource;
  let la: LinkedAccount | undefined;
  try {
    user = await configstore.getUserByQuery(
      { query_type: 'bylinkedaccount', linkedaccountid: laId },
      options,
    );
    la =
      user.linked_accounts && Object.hasOwn(user.linked_accounts, laId)
        ? user.linked_accounts[laId]
        : undefined;
    rs = await configstore.getRemoteSource(
      project.remote_source_id || la?.remote_source_id || '',
      options,
    );
  } catch (err) {
    throw wrap(err, `reading the linked account and remote source of project ${project.id}`);
  }
  if (!la) {
    throw new GitSourceError(`linked account ${laId} does not exist in user ${user.name}`, {
      code: GitSourceErrorCodes.InvalidConfig,
    });
  }
  const source = await gitSourceForAccount(configstore, rs, user.id, la, options);
  return { source, user, la, rs };
}
