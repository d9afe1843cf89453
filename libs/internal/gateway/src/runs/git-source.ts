import type { ConfigstoreClient } from '@agola-ts/configstore-client';
import { wrap } from '@agola-ts/errors';
import { createGitSource, isOAuth2Source, type GitSource } from '@agola-ts/gitsources';
import type { LinkedAccount, RemoteSource } from '@agola-ts/types';

/** Refresh an OAuth2 access token this long before it expires. */
const REFRESH_MARGIN_MS = 60_000;

function sourceOf(rs: RemoteSource, token: string | undefined): GitSource {
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
      throw new Error(`unknown remote source type ${String(never)}`);
    }
  }
}

/**
 * The git source of a remote source acting as a linked account (Agola's `GetGitSource`): the
 * user access token for password sources, the OAuth2 access token otherwise, refreshed (and
 * saved to the configstore, then `onSaved` called) when it expired.
 */
export async function gitSourceForAccount(
  configstore: ConfigstoreClient,
  rs: RemoteSource,
  userId: string,
  la: LinkedAccount,
  options: { signal?: AbortSignal; onSaved?: () => void } = {},
): Promise<GitSource> {
  if (rs.auth_type === 'password') return sourceOf(rs, la.user_access_token);
  let token = la.oauth2_access_token;
  const expiresAt = la.oauth_2_access_token_expires_at
    ? Date.parse(la.oauth_2_access_token_expires_at)
    : NaN;
  if (
    la.oauth2_refresh_token &&
    Number.isFinite(expiresAt) &&
    expiresAt - REFRESH_MARGIN_MS < Date.now()
  ) {
    const source = sourceOf(rs, undefined);
    if (isOAuth2Source(source)) {
      try {
        const call = options.signal ? { signal: options.signal } : {};
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
        // the user kept by the gateway's read cache holds the old tokens
        options.onSaved?.();
      } catch (err) {
        throw wrap(err, 'refreshing the linked account OAuth2 token');
      }
    }
  }
  return sourceOf(rs, token);
}
