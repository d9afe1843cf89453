import { ApiError, badRequest, is, unauthorized, wrap } from '@agola-ts/errors';
import {
  remoteSourceGitSource,
  GitSourceErrorCodes,
  isGitSourceNotExist,
  isGitSourceUnauthorized,
  isOAuth2Source,
  isPasswordSource,
  type OAuth2Source,
  type PasswordSource,
  type UserInfo,
  type UserSource,
} from '@agola-ts/gitsources';
import type { LinkedAccount, RemoteSource, User } from '@agola-ts/types';
import { GatewayErrorCodes } from './codes.js';
import type { GatewayContext } from './context.js';
import { isRemoteNotExist, passThrough } from './downstream.js';
import { userResponse, type GatewayUser } from './responses.js';
import { validName } from './request.js';

/** The four flows a remote source login serves (Agola's `RemoteSourceRequestType`). */
export type RemoteSourceRequestType = 'createuserla' | 'loginuser' | 'authorize' | 'registeruser';

/** What a flow needs besides the provider tokens (kept in the OAuth2 state between the two legs). */
export interface RemoteSourceRequest {
  remoteSourceName: string;
  /** createuserla: the user getting the linked account. */
  userRef?: string;
  /** registeruser: the new user's name. */
  userName?: string;
}

/** The provider tokens obtained by a login (a password login gives a user access token). */
interface ProviderTokens {
  userAccessToken?: string;
  oauth2AccessToken?: string;
  oauth2RefreshToken?: string;
  oauth2ExpiresAt?: Date;
}

/** The result of a flow: an OAuth2 redirect to follow first, or the flow's response. */
export interface RemoteSourceAuthResponse {
  oauth2Redirect?: string;
  response?: RemoteSourceAuthResult;
}

/** What each flow answers. */
export type RemoteSourceAuthResult =
  | { requestType: 'createuserla'; linkedAccount: LinkedAccount }
  | { requestType: 'registeruser'; user: User }
  | { requestType: 'loginuser'; token: string; user: User; userResponse: GatewayUser }
  | { requestType: 'authorize'; remoteUserInfo: UserInfo; remoteSourceName: string };

/** How long the OAuth2 state (a JWT) of a flow stays valid: 10 minutes. */
const OAUTH2_STATE_TTL_S = 10 * 60;

const invalid = (message: string) =>
  badRequest(message, { code: GatewayErrorCodes.InvalidRequest, callerOf: invalid });

/** A git source of `rs` acting with `token` (or none, to log in). */
export function userSourceOf(
  rs: RemoteSource,
  token?: string,
): UserSource & Partial<PasswordSource & OAuth2Source> {
  return remoteSourceGitSource(rs, token);
}

/**
 * Maps a git source failure for the caller: 401 when the provider refused the credentials,
 * 400 when the account may not do it or what was named does not exist there, the error
 * itself (a 500) otherwise.
 */
export function gitSourceFailure(err: unknown, what: string): unknown {
  if (isGitSourceUnauthorized(err)) {
    return unauthorized(`${what}: the remote source refused the credentials`, {
      code: GatewayErrorCodes.RemoteLoginFailed,
      cause: err,
      callerOf: gitSourceFailure,
    });
  }
  if (is(err, GitSourceErrorCodes.Forbidden)) {
    return badRequest(`${what}: the linked account may not do this on the remote source`, {
      code: GatewayErrorCodes.RemoteSource,
      cause: err,
      callerOf: gitSourceFailure,
    });
  }
  if (isGitSourceNotExist(err)) {
    return badRequest(`${what}: not found on the remote source`, {
      code: GatewayErrorCodes.RemoteSource,
      cause: err,
      callerOf: gitSourceFailure,
    });
  }
  return wrap(err, what, { code: GatewayErrorCodes.RemoteSource });
}

async function getRemoteSource(ctx: GatewayContext, ref: string): Promise<RemoteSource> {
  if (ref === '') throw invalid('remote source name required');
  try {
    return await ctx.configstore.getRemoteSource(ref);
  } catch (err) {
    throw passThrough(err);
  }
}

async function getUser(ctx: GatewayContext, ref: string): Promise<User> {
  try {
    return await ctx.configstore.getUser(ref);
  } catch (err) {
    throw passThrough(err);
  }
}

function linkedAccountFor(user: User, rsId: string): LinkedAccount | undefined {
  return Object.values(user.linked_accounts ?? {}).find((la) => la.remote_source_id === rsId);
}

async function remoteUserInfo(rs: RemoteSource, tokens: ProviderTokens): Promise<UserInfo> {
  const token = rs.auth_type === 'password' ? tokens.userAccessToken : tokens.oauth2AccessToken;
  let info: UserInfo;
  try {
    info = await userSourceOf(rs, token).getUserInfo();
  } catch (err) {
    throw gitSourceFailure(
      err,
      `reading the remote user of remote source ${JSON.stringify(rs.name)}`,
    );
  }
  if (!info.id) {
    throw wrap(new Error('empty remote user id'), `remote source ${JSON.stringify(rs.name)}`, {
      code: GatewayErrorCodes.RemoteSource,
    });
  }
  return info;
}

const laTokens = (t: ProviderTokens) => ({
  ...(t.userAccessToken ? { user_access_token: t.userAccessToken } : {}),
  ...(t.oauth2AccessToken ? { oauth2_access_token: t.oauth2AccessToken } : {}),
  ...(t.oauth2RefreshToken ? { oauth2_refresh_token: t.oauth2RefreshToken } : {}),
  ...(t.oauth2ExpiresAt
    ? { oauth_2_access_token_expires_at: t.oauth2ExpiresAt.toISOString() }
    : {}),
});

/** Signs a login JWT for `userId`, valid for the configured duration. */
export function loginToken(ctx: GatewayContext, userId: string): string {
  return ctx.jwt.sign({
    sub: userId,
    exp: Math.floor((Date.now() + ctx.tokenDurationMs) / 1000),
  });
}

/** Completes a flow once the provider tokens are known (Agola's `HandleRemoteSourceAuthRequest`). */
async function completeRequest(
  ctx: GatewayContext,
  type: RemoteSourceRequestType,
  request: RemoteSourceRequest,
  tokens: ProviderTokens,
): Promise<RemoteSourceAuthResult> {
  const rs = await getRemoteSource(ctx, request.remoteSourceName);
  switch (type) {
    case 'createuserla': {
      const userRef = request.userRef ?? '';
      const user = await getUser(ctx, userRef);
      if (linkedAccountFor(user, rs.id)) {
        throw invalid(
          `user already has a linked account for remote source ${JSON.stringify(rs.name)}`,
        );
      }
      const info = await remoteUserInfo(rs, tokens);
      try {
        const la = await ctx.configstore.createUserLA(user.id, {
          remote_source_name: rs.name,
          remote_user_id: info.id,
          remote_user_name: info.loginName,
          ...laTokens(tokens),
        });
        return { requestType: 'createuserla', linkedAccount: la };
      } catch (err) {
        throw passThrough(err);
      }
    }
    case 'registeruser': {
      const userName = validName(request.userName ?? '', 'user');
      if (rs.registration_enabled === false) {
        throw invalid('remote source user registration is disabled');
      }
      const info = await remoteUserInfo(rs, tokens);
      try {
        const user = await ctx.configstore.createUser({
          user_name: userName,
          create_user_la_request: {
            remote_source_name: rs.name,
            remote_user_id: info.id,
            remote_user_name: info.loginName,
            ...laTokens(tokens),
          },
        });
        return { requestType: 'registeruser', user };
      } catch (err) {
        throw passThrough(err);
      }
    }
    case 'loginuser': {
      if (rs.login_enabled === false) throw invalid('remote source user login is disabled');
      const info = await remoteUserInfo(rs, tokens);
      let user: User;
      try {
        user = await ctx.configstore.getUserByQuery({
          query_type: 'byremoteuser',
          remoteuserid: info.id,
          remotesourceid: rs.id,
        });
      } catch (err) {
        if (isRemoteNotExist(err)) {
          throw unauthorized(`no user is linked to this ${rs.name} account: register first`, {
            code: GatewayErrorCodes.RemoteLoginFailed,
            cause: err,
          });
        }
        throw passThrough(err);
      }
      const la = linkedAccountFor(user, rs.id);
      if (!la) throw new ApiError('internal', 'linked account of a linked user missing');
      // keep the newest provider tokens (a password login creates a new access token)
      const fresh = laTokens(tokens);
      if (
        (fresh.user_access_token ?? '') !== (la.user_access_token ?? '') ||
        (fresh.oauth2_access_token ?? '') !== (la.oauth2_access_token ?? '') ||
        (fresh.oauth2_refresh_token ?? '') !== (la.oauth2_refresh_token ?? '')
      ) {
        try {
          await ctx.configstore.updateUserLA(user.id, la.id, {
            remote_user_id: la.remote_user_id ?? info.id,
            remote_user_name: la.remote_username ?? info.loginName,
            ...fresh,
          });
        } catch (err) {
          throw passThrough(err);
        }
      }
      return {
        requestType: 'loginuser',
        token: loginToken(ctx, user.id),
        user,
        userResponse: userResponse(user),
      };
    }
    case 'authorize': {
      const info = await remoteUserInfo(rs, tokens);
      return { requestType: 'authorize', remoteUserInfo: info, remoteSourceName: rs.name };
    }
    default: {
      const never: never = type;
      throw invalid(`unknown request type ${JSON.stringify(String(never))}`);
    }
  }
}

/**
 * Starts (OAuth2: returns the provider's authorize URL with a signed state) or completes
 * (password: logs in to the provider now, creating the token `agola-<id>`) one of the remote
 * source flows (Agola's `HandleRemoteSourceAuth`).
 *
 * @throws `ApiError` 401 `ERR_GATEWAY_REMOTE_LOGIN_FAILED` for refused credentials, 400 for a
 * bad request, the configstore's status for its errors.
 */
export async function handleRemoteSourceAuth(
  ctx: GatewayContext,
  type: RemoteSourceRequestType,
  request: RemoteSourceRequest,
  login: { loginName: string; password: string },
): Promise<RemoteSourceAuthResponse> {
  const rs = await getRemoteSource(ctx, request.remoteSourceName);
  const source = userSourceOf(rs);
  if (rs.auth_type === 'oauth2') {
    if (!isOAuth2Source(source)) throw invalid(`remote source ${rs.name} has no OAuth2 support`);
    const state = ctx.jwt.sign({
      exp: Math.floor(Date.now() / 1000) + OAUTH2_STATE_TTL_S,
      remote_source_name: rs.name,
      request_type: type,
      request: JSON.stringify(request),
    });
    return {
      oauth2Redirect: source.getOAuth2AuthorizationURL(oauth2CallbackURL(ctx), state),
    };
  }
  if (!isPasswordSource(source)) throw invalid(`remote source ${rs.name} has no password login`);
  if (login.loginName === '' || login.password === '') {
    throw unauthorized('login name and password required', {
      code: GatewayErrorCodes.RemoteLoginFailed,
    });
  }
  let accessToken: string;
  try {
    accessToken = await source.loginPassword(
      login.loginName,
      login.password,
      `agola-${ctx.agolaId}`,
    );
  } catch (err) {
    throw gitSourceFailure(err, `logging in to remote source ${JSON.stringify(rs.name)}`);
  }
  return { response: await completeRequest(ctx, type, request, { userAccessToken: accessToken }) };
}

/** `<webExposedURL>/oauth2/callback`, where the provider sends the browser back. */
export function oauth2CallbackURL(ctx: GatewayContext): string {
  let base = ctx.config.webExposedURL;
  while (base.endsWith('/')) base = base.slice(0, -1);
  return `${base}/oauth2/callback`;
}

const REQUEST_TYPES: ReadonlySet<string> = new Set([
  'createuserla',
  'loginuser',
  'authorize',
  'registeruser',
]);

/**
 * The second leg of an OAuth2 flow: verifies the state, exchanges the code for tokens and
 * completes the flow.
 *
 * @throws `ApiError` 400 for a bad or expired state or a refused code.
 */
export async function handleOAuth2Callback(
  ctx: GatewayContext,
  code: string,
  state: string,
): Promise<RemoteSourceAuthResult> {
  const claims = ctx.jwt.verify(state);
  const rsName = claims?.['remote_source_name'];
  const type = claims?.['request_type'];
  const requestText = claims?.['request'];
  if (
    typeof rsName !== 'string' ||
    typeof type !== 'string' ||
    !REQUEST_TYPES.has(type) ||
    typeof requestText !== 'string'
  ) {
    throw invalid('invalid or expired oauth2 state');
  }
  let request: RemoteSourceRequest;
  try {
    const parsed = JSON.parse(requestText) as Partial<RemoteSourceRequest>;
    request = {
      remoteSourceName: rsName,
      ...(typeof parsed.userRef === 'string' ? { userRef: parsed.userRef } : {}),
      ...(typeof parsed.userName === 'string' ? { userName: parsed.userName } : {}),
    };
  } catch {
    throw invalid('invalid oauth2 state');
  }
  const rs = await getRemoteSource(ctx, rsName);
  const source = userSourceOf(rs);
  if (!isOAuth2Source(source)) throw invalid(`remote source ${rs.name} has no OAuth2 support`);
  let token;
  try {
    token = await source.requestOAuth2Token(oauth2CallbackURL(ctx), code);
  } catch (err) {
    throw badRequest('the remote source refused the oauth2 code', {
      code: GatewayErrorCodes.RemoteLoginFailed,
      cause: err,
    });
  }
  return completeRequest(ctx, type as RemoteSourceRequestType, request, {
    oauth2AccessToken: token.accessToken,
    ...(token.refreshToken ? { oauth2RefreshToken: token.refreshToken } : {}),
    ...(token.expiresAt ? { oauth2ExpiresAt: token.expiresAt } : {}),
  });
}
