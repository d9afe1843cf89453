import { describe, expect, it } from 'vitest';
import {
  CONFIG_YML,
  addUser,
  createProject,
  createRemoteSource,
  newForge,
  startStack,
} from './runs-helpers.js';

/** A small seeded generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = [
  '',
  '0',
  '-1',
  '1e3',
  '99999999999999999999',
  '__proto__',
  'constructor',
  '..',
  '%2e%2e',
  '%00',
  'a'.repeat(3000),
  '😀',
  "' OR 1=1",
  '/',
  '%2F',
  'null',
];

describe('run routes fuzz', () => {
  it('hostile refs, numbers, queries and bodies get 4xx, never a 5xx', async () => {
    const stack = await startStack();
    const forge = await newForge('gitea');
    const rs = await createRemoteSource(stack, forge);
    const alice = await addUser(stack, forge, rs, 'alice');
    await createProject(stack, forge, rs, alice, 'pub');
    await forge.commit({
      repo: 'alice/pub',
      files: { '.agola/config.yml': CONFIG_YML },
      branch: 'main',
    });
    await forge.settled();
    const next = rng(1234);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
    const seg = () => encodeURIComponent(pick([...ODD, 'user/alice/pub', '1']));
    const bodies = [
      undefined,
      '{',
      '[]',
      'null',
      '"x"',
      JSON.stringify({ action_type: pick(ODD) }),
      JSON.stringify({ action_type: 'restart', from_start: 'yes' }),
      JSON.stringify({ branch: 1 }),
      JSON.stringify({ branch: 'main', tag: 'v1' }),
      JSON.stringify({ __proto__: { action_type: 'cancel' } }),
      JSON.stringify({ repo_uuid: 'x', repo_path: '../..', branch: 'main' }),
      JSON.stringify({
        repo_uuid: 'x',
        repo_path: `${alice.user.id}/x`,
        ref: 'refs/nope',
        pull_request_ref_regexes: ['(', '(a*)*'],
      }),
      JSON.stringify({
        repo_uuid: 'x',
        repo_path: `${alice.user.id}/x`,
        branch: 'main',
        variables: { a: 1 },
      }),
    ];
    const routes: (() => [string, string])[] = [
      () => [
        'GET',
        `/projects/${seg()}/runs?limit=${seg()}&start=${seg()}&phase=${seg()}&subgroup=${seg()}`,
      ],
      () => ['GET', `/projects/${seg()}/runs/${seg()}`],
      () => ['PUT', `/projects/${seg()}/runs/${seg()}/actions`],
      () => ['GET', `/projects/${seg()}/runs/${seg()}/tasks/${seg()}`],
      () => ['PUT', `/projects/user%2Falice%2Fpub/runs/1/tasks/${seg()}/actions`],
      () => ['GET', `/projects/user%2Falice%2Fpub/runs/1/tasks/${seg()}/logs?step=${seg()}`],
      () => [
        'DELETE',
        `/projects/user%2Falice%2Fpub/runs/1/tasks/${seg()}/logs?${pick(['setup', 'step=x', 'setup&step=1'])}`,
      ],
      () => ['POST', `/projects/${seg()}/createrun`],
      () => ['POST', '/user/createrun'],
      () => ['GET', `/users/${seg()}/runs/${seg()}`],
      () => ['GET', `/badges/${seg()}?branch=${seg()}`],
    ];
    const failures: string[] = [];
    for (let i = 0; i < 250; i++) {
      const [method, path] = pick(routes)();
      const body = method === 'GET' || method === 'DELETE' ? undefined : pick(bodies);
      const headers: Record<string, string> = {};
      if (next() < 0.8) headers['authorization'] = `token ${alice.token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${stack.api}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      await res.arrayBuffer();
      if (res.status >= 500)
        failures.push(`${res.status} ${method} ${path.slice(0, 200)} ${body ?? ''}`);
    }
    // the only run may have been cancelled or restarted meanwhile: that is fine, errors are not
    expect(failures).toEqual([]);
    for (const projectId of ODD) {
      const wh = await fetch(`${stack.root}/webhooks?projectid=${encodeURIComponent(projectId)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-gitea-event': 'push' },
        body: '{"ref":',
      });
      expect([projectId.slice(0, 20), wh.status]).toEqual([projectId.slice(0, 20), 400]);
    }
  });
});
