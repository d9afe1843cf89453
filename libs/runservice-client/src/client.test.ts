import { describe, expect, it } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { createRunserviceClient } from './client.js';
import { plannedRunToCreateRequest } from './planned-run.js';

/** A fetch that records the requests and answers from a list of responses. */
function scriptedFetch(answers: (() => Response)[], seen: Request[]): typeof fetch {
  return async (input, init) => {
    seen.push(new Request(input, init));
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('createRunserviceClient', () => {
  it('sends repeatable filters, encodes groups in one segment, parses answers', async () => {
    const seen: Request[] = [];
    const rs = createRunserviceClient({
      baseUrl: 'http://rs/api/v1alpha/',
      fetch: scriptedFetch(
        [
          () => json(200, { runs: [], change_groups_update_tokens: 't' }),
          () => json(200, { runs: [] }),
        ],
        seen,
      ),
    });
    expect(
      await rs.getRuns({
        phase: ['queued', 'running'],
        group: ['/project/p'],
        lastRun: true,
        limit: 5,
        asc: true,
      }),
    ).toEqual({ runs: [], change_groups_update_tokens: 't' });
    expect(seen[0]?.url).toBe(
      'http://rs/api/v1alpha/runs?phase=queued&phase=running&group=%2Fproject%2Fp&lastrun=&limit=5&asc=',
    );
    await rs.getGroupRuns('/project/p/branch/a b', { start: 3 });
    expect(seen[1]?.url).toBe(
      'http://rs/api/v1alpha/runs/group/%2Fproject%2Fp%2Fbranch%2Fa%20b?start=3',
    );
  });

  it('turns error bodies into RemoteError and a 304 cache upload into "exists"', async () => {
    const seen: Request[] = [];
    const rs = createRunserviceClient({
      baseUrl: 'http://rs/api/v1alpha',
      fetch: scriptedFetch(
        [
          () => json(404, { code: 'ERR_NOT_EXIST', message: 'run "x" doesn\'t exist' }),
          () => new Response(null, { status: 304 }),
          () => new Response(null, { status: 404 }),
        ],
        seen,
      ),
    });
    const err = await rs.getRun('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).status).toBe(404);
    expect((err as RemoteError).code).toBe('ERR_NOT_EXIST');
    expect(await rs.putCache('k/1', new Uint8Array([1, 2]))).toBe('exists');
    expect(seen[1]?.url).toBe('http://rs/api/v1alpha/executor/caches/k%2F1');
    expect(await rs.hasCache('k', true)).toBe(false);
    expect(seen[2]?.method).toBe('HEAD');
    expect(seen[2]?.url).toBe('http://rs/api/v1alpha/executor/caches/k?prefix=');
  });

  it('parses Server-Sent Events and reconnects after the stream ends', async () => {
    const seen: Request[] = [];
    const ev = (n: number) => ({
      Sequence: `s${n}`,
      RunID: 'r',
      Phase: 'running',
      Result: 'unknown',
    });
    const sse = (text: string) =>
      new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    const rs = createRunserviceClient({
      baseUrl: 'http://rs/api/v1alpha',
      fetch: scriptedFetch(
        [
          () =>
            sse(`:\n\ndata: ${JSON.stringify(ev(1))}\n\ndata: ${JSON.stringify(ev(2))}\r\n\r\n`),
          () => sse(`data: ${JSON.stringify(ev(3))}\n\n`),
        ],
        seen,
      ),
    });
    const got: string[] = [];
    for await (const e of rs.runEvents({
      reconnectDelayMs: 1,
      onOpen: () => got.push(`open${seen.length}`),
    })) {
      got.push(e.Sequence);
      if (got.length === 5) break;
    }
    // onOpen runs once per connection, before that connection's events
    expect(got).toEqual(['open1', 's1', 's2', 'open2', 's3']);
    expect(seen).toHaveLength(2);
  });

  it('runEvents onData sees every chunk, keep-alive comments included', async () => {
    const enc = new TextEncoder();
    const chunks = [':\n\n', ':\n\n', `data: ${JSON.stringify({ Sequence: 's1' })}\n\n`];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) c.close();
        else c.enqueue(enc.encode(next));
      },
    });
    const rs = createRunserviceClient({
      baseUrl: 'http://rs/api/v1alpha',
      fetch: scriptedFetch([() => new Response(body, { status: 200 })], []),
    });
    const got: string[] = [];
    for await (const e of rs.runEvents({ reconnect: false, onData: () => got.push('data') })) {
      got.push(e.Sequence);
    }
    expect(got).toEqual(['data', 'data', 'data', 's1']);
  });

  it('plannedRunToCreateRequest: tasks with on_success defaults, or only setup errors', () => {
    const task = {
      id: 't2',
      name: 'test',
      level: 1,
      depends: { t1: { task_id: 't1', conditions: [] } },
      runtime: { type: 'pod' as const, containers: [] },
      environment: {},
      working_dir: '',
      shell: '',
      user: '',
      steps: [],
      ignore_failure: false,
      needs_approval: false,
      skip: false,
      docker_registries_auth: {},
    };
    const req = plannedRunToCreateRequest(
      { name: 'ci', setup_errors: [], static_environment: { A: '1' }, tasks: { t2: task } },
      { group: '/project/p/branch/main', annotations: { sha: 'x' } },
    );
    expect(req.run_config_tasks?.['t2']?.depends['t1']?.conditions).toEqual(['on_success']);
    expect(task.depends.t1.conditions).toEqual([]);
    expect(req).toMatchObject({
      name: 'ci',
      group: '/project/p/branch/main',
      setup_errors: null,
      static_environment: { A: '1' },
      annotations: { sha: 'x' },
    });
    const bad = plannedRunToCreateRequest(
      { name: 'Setup Error', setup_errors: ['broken'], static_environment: {}, tasks: {} },
      { group: '/project/p/branch/main' },
    );
    expect(bad.run_config_tasks).toBeNull();
    expect(bad.setup_errors).toEqual(['broken']);
  });
});
