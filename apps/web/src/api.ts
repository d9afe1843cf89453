import { createGatewayClient, type GatewayClient } from '@agola-ts/gateway-client';
import { webConfig } from './config.js';

/** `localStorage` key of the login JWT (as Agola's web UI): sent as `Authorization: bearer`. */
export const ID_TOKEN_KEY = 'id_token';
/** `localStorage` key of a user API token entered on the login page: sent as `token`. */
export const API_TOKEN_KEY = 'api_token';

/** How the browser is logged in. */
export type Credential = { type: 'bearer'; token: string } | { type: 'token'; token: string };

function storage(): Storage | undefined {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : undefined;
  } catch {
    return undefined;
  }
}

/** The stored credential, if any (a login JWT wins over an API token). */
export function storedCredential(): Credential | undefined {
  const s = storage();
  const jwt = s?.getItem(ID_TOKEN_KEY);
  if (jwt) return { type: 'bearer', token: jwt };
  const token = s?.getItem(API_TOKEN_KEY);
  if (token) return { type: 'token', token };
  return undefined;
}

let onUnauthorized: (() => void) | undefined;

/**
 * What to do when the gateway answers 401 to a logged-in request (the router sends the
 * user to the login page).
 */
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  return url.slice(0, end);
}

/** The base URL of the API (`API_URL` + `API_BASE_PATH`). */
export function apiBaseUrl(): string {
  const c = webConfig();
  return `${withoutTrailingSlashes(c.API_URL)}${c.API_BASE_PATH}`;
}

/** The URL of a project's badge (`<API>/badges/{ref}`: an SVG anyone may load). */
export function badgeUrl(projectRef: string, branch?: string): string {
  const q = branch ? `?branch=${encodeURIComponent(branch)}` : '';
  return `${apiBaseUrl()}/badges/${encodeURIComponent(projectRef)}${q}`;
}

/** Ends the session: forgets the credential and calls the unauthorized handler (login page). */
export function endSession(): void {
  clearCredential();
  onUnauthorized?.();
}

/** Creates a client of the gateway with the given credential (the login page checks a token with one). */
export function createApi(credential: Credential | undefined): GatewayClient {
  let current = credential;
  const client = createGatewayClient({
    baseUrl: apiBaseUrl(),
    ...(credential?.type === 'bearer' ? { bearer: credential.token } : {}),
    ...(credential?.type === 'token' ? { token: credential.token } : {}),
    timeoutMs: 30_000,
    // a 401 to a request that carried a credential means the session ended
    fetch: async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (res.status === 401 && current && client === api) endSession();
      return res;
    },
  });
  const setToken = client.setToken.bind(client);
  const setBearer = client.setBearer.bind(client);
  client.setToken = (t) => {
    current = t ? { type: 'token', token: t } : undefined;
    setToken(t);
  };
  client.setBearer = (t) => {
    current = t ? { type: 'bearer', token: t } : undefined;
    setBearer(t);
  };
  return client;
}

/** The app's gateway client, configured from `/config.js` and the stored login. */
export const api: GatewayClient = createApi(storedCredential());

/** Stores a credential and uses it for every request from now on. */
export function saveCredential(c: Credential): void {
  const s = storage();
  s?.removeItem(c.type === 'bearer' ? API_TOKEN_KEY : ID_TOKEN_KEY);
  s?.setItem(c.type === 'bearer' ? ID_TOKEN_KEY : API_TOKEN_KEY, c.token);
  if (c.type === 'bearer') api.setBearer(c.token);
  else api.setToken(c.token);
}

/** Forgets the stored credential (log out). */
export function clearCredential(): void {
  const s = storage();
  s?.removeItem(ID_TOKEN_KEY);
  s?.removeItem(API_TOKEN_KEY);
  api.setBearer(undefined);
}
