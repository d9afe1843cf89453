import { describe, expect, it } from 'vitest';
import { runRequest, startExecutor, startFresh, task } from './helpers.js';

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FIELDS = [
  'run_config_tasks',
  'name',
  'group',
  'setup_errors',
  'static_environment',
  'cache_group',
  'run_id',
  'from_start',
  'environment',
  'annotations',
  'changeup_update_tokens',
  'action_type',
  'phase',
  'change_groups_update_tokens',
  'id',
  'listenURL',
  'archs',
  'status',
  'steps',
  'setup_step',
  'depends',
  'task_id',
  'conditions',
  'type',
  'runtime',
  'containers',
  'level',
  'exit_status',
  'siblings_executors',
  'dynamic',
  'active_tasks_limit',
  '__proto__',
  'constructor',
];

const STRINGS = [
  '',
  'a',
  'running',
  'cancelled',
  'queued',
  'changephase',
  'stop',
  'approve',
  'setannotations',
  'on_success',
  'run',
  'save_to_workspace',
  'success',
  '/project/p1/branch/main',
  '/project',
  'relative',
  'http://127.0.0.1:1',
  'eyJjdXJfcmV2aXNpb24iOjF9',
  'é/..',
  'x'.repeat(300),
];

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 6 : 8));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 2000) - 1000;
    case 3:
    case 4:
    case 5:
      return STRINGS[Math.floor(rand() * STRINGS.length)];
    case 6:
      return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) {
        const k = FIELDS[Math.floor(rand() * FIELDS.length)]!;
        Object.defineProperty(o, k, {
          value: randomValue(rand, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return o;
    }
  }
}

/** A valid run request with one field somewhere replaced by a random value. */
function mutatedRun(rand: () => number): unknown {
  const req = JSON.parse(
    JSON.stringify(
      runRequest([task('a', { save: true }), task('b', { depends: { a: ['on_success'] } })]),
    ),
  ) as Record<string, unknown>;
  const targets: Record<string, unknown>[] = [req];
  const tasks = req['run_config_tasks'] as Record<string, Record<string, unknown>>;
  targets.push(tasks['a']!, tasks['b']!, (tasks['a']!['steps'] as Record<string, unknown>[])[0]!);
  targets.push((tasks['b']!['depends'] as Record<string, Record<string, unknown>>)['a']!);
  const t = targets[Math.floor(rand() * targets.length)]!;
  const keys = Object.keys(t);
  const k =
    rand() < 0.7 && keys.length > 0
      ? keys[Math.floor(rand() * keys.length)]!
      : FIELDS[Math.floor(rand() * FIELDS.length)]!;
  t[k] = randomValue(rand, 2);
  return req;
}

const MALFORMED = ['', '{', '{"name":', 'null', '[]', '"str"', '42', '{"a":1}}', '\u0000'];

const REFS = ['nobody', '%2F', 'a%2Fb', '%00', '%E2%82%AC', 'x'.repeat(500), '%25', '..', '%2E%2E'];

const QUERIES = [
  'phase=bogus',
  'result=x',
  'limit=-1',
  'limit=abc',
  'limit=99999999999',
  'start=%00',
  'group=%2F',
  'lastrun&asc',
  'changegroup=a%2Fb',
  'changegroup=',
  `changegroup=${'x'.repeat(300)}`,
  'runid=&taskid=',
  'runid=nope&taskid=a&setup&step=1',
  'runid=nope&taskid=a&step=x',
  'runid=nope&taskid=a&step=1',
  'taskid=..&step=0',
  'taskid=a&step=-1',
  'prefix',
];

describe('runservice fuzz', () => {
  it('answers malformed and random bodies and queries with 4xx, never 500', async () => {
    const { client, url } = await startFresh();
    await startExecutor({ id: 'ex1', client });
    const { run } = await client.createRun(runRequest([task('a')]));
    const send = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${url}${path}`, {
        method,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      });
      await res.text();
      if (res.status >= 500) throw new Error(`${method} ${path} ${body ?? ''} -> ${res.status}`);
      return res.status;
    };
    const routes: [string, (ref: string) => string][] = [
      ['POST', () => '/runs'],
      ['PUT', (r) => `/runs/${r}/actions`],
      ['PUT', (r) => `/runs/${r}/tasks/${r}/actions`],
      ['POST', (r) => `/executor/${r}`],
      ['POST', (r) => `/executor/${r}/tasks/${r}`],
    ];
    for (const [method, path] of routes) {
      for (const body of MALFORMED) {
        const status = await send(method, path(run.id), body);
        expect(status, `${method} ${path(run.id)} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(
          400,
        );
      }
    }
    const rand = prng(12);
    const refs = [run.id, 'a', 'ex1', ...REFS];
    for (let i = 0; i < 300; i++) {
      const [method, path] = routes[Math.floor(rand() * routes.length)]!;
      const ref = refs[Math.floor(rand() * refs.length)]!;
      await send(method, path(ref), JSON.stringify(randomValue(rand)));
    }
    for (let i = 0; i < 200; i++) {
      await send('POST', '/runs', JSON.stringify(mutatedRun(rand)));
    }
    for (const q of QUERIES) {
      for (const path of [
        '/runs',
        '/runs/group/%2Fproject%2Fp1',
        '/logs',
        '/executor/archives',
        '/changegroups',
      ]) {
        await send('GET', `${path}?${q}`);
      }
      await send('DELETE', `/logs?${q}`);
      await send('GET', `/executor/caches/k?${q}`);
    }
    for (const ref of REFS) {
      expect(await send('GET', `/runs/${ref}`)).toBeGreaterThanOrEqual(400);
      // a group of '/' matches every run: only never-5xx here
      await send('GET', `/runs/group/${ref}/1`);
      expect(await send('GET', `/executor/ex1/tasks/${ref}`)).toBeGreaterThanOrEqual(400);
      await send('GET', `/executor/caches/${ref}`);
      await send('GET', `/runs/group/${ref}/${ref}`);
      await send('GET', `/executor/${ref}/tasks`);
    }
    // the service still works
    expect((await client.getRun(run.id)).run.id).toBe(run.id);
  }, 120_000);
});
