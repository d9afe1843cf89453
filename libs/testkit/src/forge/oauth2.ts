import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ForgeCore } from './forge.js';

/** Where a provider serves OAuth2 and how it answers. */
export interface OAuth2Style {
  authorizePath: string;
  tokenPath: string;
  /** GitHub answers token errors with 200 and form-encoded bodies unless JSON is asked for. */
  github?: boolean;
  /** Access token lifetime in seconds. */
  expiresIn: number;
  tokenType: string;
}

function clientCredentials(
  req: FastifyRequest,
  body: Record<string, unknown>,
): { id: string; secret: string } {
  const header = req.headers['authorization'];
  if (typeof header === 'string' && header.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
  }
  return {
    id: typeof body['client_id'] === 'string' ? body['client_id'] : '',
    secret: typeof body['client_secret'] === 'string' ? body['client_secret'] : '',
  };
}

/**
 * The authorization-code grant: `GET authorize` (the "logged-in browser" is a request with
 * the user's basic auth) redirects to the app's redirect URI with a code; `POST token`
 * exchanges a code or a refresh token for an access token.
 */
export function registerOAuth2(app: FastifyInstance, core: ForgeCore, style: OAuth2Style): void {
  const state = core.state;
  app.get(style.authorizePath, (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const user = core.authUser(req);
    if (!user) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="forge login"')
        .send({ error: 'login_required' });
    }
    const appReg = state.apps.get(q['client_id'] ?? '');
    if (!appReg) return reply.code(400).send({ error: 'invalid_client' });
    const redirect = q['redirect_uri'] ?? appReg.redirectURI;
    if (redirect !== appReg.redirectURI)
      return reply.code(400).send({ error: 'redirect_uri_mismatch' });
    if (!style.github && q['response_type'] !== 'code')
      return reply.code(400).send({ error: 'unsupported_response_type' });
    const code = state.randomToken(16);
    state.codes.set(code, { clientId: appReg.clientId, redirectURI: redirect, login: user.login });
    const target = new URL(redirect);
    target.searchParams.set('code', code);
    if (q['state'] !== undefined) target.searchParams.set('state', q['state']);
    return reply.redirect(target.toString(), 302);
  });

  const tokenError = (req: FastifyRequest, reply: FastifyReply, error: string) => {
    const body = { error, error_description: error.replace(/_/g, ' ') };
    if (style.github) return sendGithub(req, reply, body);
    return reply.code(error === 'invalid_client' ? 401 : 400).send(body);
  };

  app.post(style.tokenPath, (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const query = req.query as Record<string, unknown>;
    const params = { ...query, ...body };
    const client = clientCredentials(req, params);
    const appReg = state.apps.get(client.id);
    if (!appReg || appReg.clientSecret !== client.secret)
      return tokenError(req, reply, 'invalid_client');
    let login: string;
    const grant = params['grant_type'] ?? (style.github ? 'authorization_code' : undefined);
    if (grant === 'authorization_code') {
      const code = typeof params['code'] === 'string' ? params['code'] : '';
      const found = state.codes.get(code);
      state.codes.delete(code);
      if (!found || found.clientId !== appReg.clientId)
        return tokenError(req, reply, style.github ? 'bad_verification_code' : 'invalid_grant');
      if (params['redirect_uri'] !== undefined && params['redirect_uri'] !== found.redirectURI)
        return tokenError(req, reply, style.github ? 'redirect_uri_mismatch' : 'invalid_grant');
      login = found.login;
    } else if (grant === 'refresh_token') {
      const value = typeof params['refresh_token'] === 'string' ? params['refresh_token'] : '';
      const found = state.refreshTokens.get(value);
      // a refresh token is single use, as Gitea, GitLab and GitHub rotate them
      state.refreshTokens.delete(value);
      if (!found || found.clientId !== appReg.clientId)
        return tokenError(req, reply, style.github ? 'bad_refresh_token' : 'invalid_grant');
      login = found.login;
    } else {
      return tokenError(req, reply, 'unsupported_grant_type');
    }
    const access = state.randomToken();
    const refresh = state.randomToken();
    state.tokens.set(access, {
      id: state.nextId(),
      name: `oauth2-${appReg.clientId}`,
      value: access,
      login,
      scopes: [],
      expiresAt: Date.now() + style.expiresIn * 1000,
    });
    state.refreshTokens.set(refresh, { clientId: appReg.clientId, login });
    const result = {
      access_token: access,
      token_type: style.tokenType,
      expires_in: style.expiresIn,
      refresh_token: refresh,
      scope: typeof params['scope'] === 'string' ? params['scope'] : '',
    };
    if (style.github) return sendGithub(req, reply, result);
    return reply.send(result);
  });
}

/** GitHub's token endpoint: JSON when asked by `Accept`, else form-encoded; always 200. */
function sendGithub(req: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>) {
  const accept = req.headers['accept'] ?? '';
  if (accept.includes('application/json')) return reply.code(200).send(body);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) form.set(k, String(v));
  return reply.code(200).type('application/x-www-form-urlencoded').send(form.toString());
}
