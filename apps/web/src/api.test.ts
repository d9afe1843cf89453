import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_TOKEN_KEY, ID_TOKEN_KEY, apiBaseUrl, badgeUrl, storedCredential } from './api.js';
import { webConfig } from './config.js';

afterEach(() => {
  localStorage.clear();
  delete window.CONFIG;
  vi.unstubAllGlobals();
});

describe('the configured client', () => {
  it('takes the API URL from window.CONFIG (/config.js), else the page origin', () => {
    expect(webConfig()).toEqual({ API_URL: location.origin, API_BASE_PATH: '/api/v1alpha' });
    window.CONFIG = { API_URL: 'https://agola.example/', API_BASE_PATH: '/api/v1alpha' };
    expect(apiBaseUrl()).toBe('https://agola.example/api/v1alpha');
    expect(badgeUrl('org/acme/p1', 'main')).toBe(
      'https://agola.example/api/v1alpha/badges/org%2Facme%2Fp1?branch=main',
    );
  });

  it("uses Agola's id_token as bearer, else a stored API token", () => {
    expect(storedCredential()).toBeUndefined();
    localStorage.setItem(API_TOKEN_KEY, 'tok');
    expect(storedCredential()).toEqual({ type: 'token', token: 'tok' });
    localStorage.setItem(ID_TOKEN_KEY, 'jwt');
    expect(storedCredential()).toEqual({ type: 'bearer', token: 'jwt' });
  });

  it('a 401 to a logged-in request clears the login and calls the handler', async () => {
    localStorage.setItem(ID_TOKEN_KEY, 'old-jwt');
    const seen: string[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      seen.push(String(new Headers(init.headers).get('authorization')));
      return new Response('{"code":"","message":"invalid token"}', {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    });
    vi.resetModules();
    const mod = await import('./api.js');
    let called = 0;
    mod.setUnauthorizedHandler(() => called++);
    await expect(mod.api.getCurrentUser()).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual(['bearer old-jwt']);
    expect(called).toBe(1);
    expect(localStorage.getItem(ID_TOKEN_KEY)).toBeNull();
    // logged out now: another 401 does not call the handler again
    await expect(mod.api.getCurrentUser()).rejects.toMatchObject({ status: 401 });
    expect(called).toBe(1);
  });
});
