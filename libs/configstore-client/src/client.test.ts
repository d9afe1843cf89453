import { describe, expect, it } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createConfigstoreClient } from './client.js';

/** A fetch that records the request and answers with a fixed response. */
function fixedFetch(status: number, body: string | null, seen: Request[]): typeof fetch {
  return async (input, init) => {
    seen.push(new Request(input, init));
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  };
}

describe('createConfigstoreClient', () => {
  it('sends the route, query and JSON body, and parses the answer', async () => {
    const seen: Request[] = [];
    const cs = createConfigstoreClient({
      baseUrl: 'http://cs/api/v1alpha/',
      fetch: fixedFetch(200, '[{"id":"1","name":"ab"}]', seen),
    });
    expect(await cs.getUsers({ limit: 5, start: 'x', asc: true })).toEqual([
      { id: '1', name: 'ab' },
    ]);
    expect(seen[0]?.url).toBe('http://cs/api/v1alpha/users?limit=5&start=x&asc=');
    await cs.updateUser('a/b', 'cd');
    expect(seen[1]?.url).toBe('http://cs/api/v1alpha/users/a%2Fb');
    expect(seen[1]?.method).toBe('PUT');
    expect(await seen[1]?.json()).toEqual({ user_name: 'cd' });
  });

  it('sends path refs in one segment and asks secret and variable trees', async () => {
    const seen: Request[] = [];
    const cs = createConfigstoreClient({
      baseUrl: 'http://cs',
      fetch: fixedFetch(200, '[]', seen),
    });
    await cs.getProject('org/acme/p1');
    await cs.getSecrets('projectgroup', 'org/acme', { tree: true });
    await cs.getVariables('project', 'p-id');
    await cs.deleteSecret('project', 'user/al/p', 's1');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET http://cs/projects/org%2Facme%2Fp1',
      'GET http://cs/projectgroups/org%2Facme/secrets?tree=',
      'GET http://cs/projects/p-id/variables',
      'DELETE http://cs/projects/user%2Fal%2Fp/secrets/s1',
    ]);
  });

  it('turns an error response into a RemoteError', async () => {
    const cs = createConfigstoreClient({
      baseUrl: 'http://cs/api/v1alpha',
      fetch: fixedFetch(
        404,
        '{"code":"ERR_NOT_EXIST","message":"user \\"x\\" doesn\'t exist"}',
        [],
      ),
    });
    const err = await cs.getUser('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    const r = err as RemoteError;
    expect([r.status, r.kind, r.remoteCode, r.remoteMessage]).toEqual([
      404,
      'notexist',
      'ERR_NOT_EXIST',
      'user "x" doesn\'t exist',
    ]);
  });

  it('answers undefined for 204', async () => {
    const cs = createConfigstoreClient({ baseUrl: 'http://cs', fetch: fixedFetch(204, null, []) });
    expect(await cs.deleteUser('ab')).toBeUndefined();
  });
});
