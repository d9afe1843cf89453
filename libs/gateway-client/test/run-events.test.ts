import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { is, RemoteError } from '@agola-ts/errors';
import {
  createGatewayClient,
  createSseParser,
  GatewayClientErrorCodes,
  type RunEvent,
} from '../src/index.js';

const servers: { close: () => void; closeAllConnections: () => void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: (url: URL, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => handler(new URL(req.url ?? '/', 'http://x'), res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const ev = (n: number, phase: RunEvent['phase'] = 'running'): RunEvent => ({
  sequence: String(100 + n),
  run_id: `run-é-${n}`,
  run_number: n,
  phase,
  result: 'unknown',
});

describe('createSseParser', () => {
  const stream =
    ': keep-alive\n\ndata: {"a":1}\n\nevent: error\r\ndata: line1\r\ndata: line2\r\n\r\n' +
    'data:no-space\r\rid: 7\nretry: 10\n\n';
  const expected = [
    { event: 'message', data: '{"a":1}' },
    { event: 'error', data: 'line1\nline2' },
    { event: 'message', data: 'no-space' },
  ];

  test('parses a whole stream', () => {
    expect(createSseParser().push(stream)).toEqual(expected);
  });

  test('gives the same messages for every cut of the stream into two and three pieces', () => {
    for (let i = 0; i <= stream.length; i++) {
      const p = createSseParser();
      expect([...p.push(stream.slice(0, i)), ...p.push(stream.slice(i))]).toEqual(expected);
      for (let j = i; j <= stream.length; j += 7) {
        const q = createSseParser();
        const got = [
          ...q.push(stream.slice(0, i)),
          ...q.push(stream.slice(i, j)),
          ...q.push(stream.slice(j)),
        ];
        expect(got).toEqual(expected);
      }
    }
  });

  test('a message is dispatched only at its blank line', () => {
    const p = createSseParser();
    expect(p.push('data: x\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});

describe('runEvents', () => {
  test('yields events whose bytes arrive split anywhere (even inside a UTF-8 character)', async () => {
    const events = [ev(1), ev(2, 'finished'), ev(3)];
    const bytes = Buffer.from(
      ':\n\n' + events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''),
      'utf8',
    );
    let query = '';
    const base = await serve((url, res) => {
      query = url.search;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // 3-byte pieces, flushed one by one: JSON, line ends and 'é' are all cut
      let i = 0;
      const next = () => {
        if (i >= bytes.length) return res.end();
        res.write(bytes.subarray(i, i + 3));
        i += 3;
        setTimeout(next, 1);
      };
      next();
    });
    const gw = createGatewayClient({ baseUrl: base });
    let opened = 0;
    const got: RunEvent[] = [];
    for await (const e of gw.runEvents(
      { kind: 'project', ref: 'org/acme/app' },
      { onOpen: () => opened++ },
    )) {
      got.push(e);
    }
    expect(got).toEqual(events);
    expect(opened).toBe(1);
    expect(query).toBe('?projectref=org%2Facme%2Fapp');
  });

  test('an error event ends the iteration with ERR_GATEWAY_CLIENT_EVENTS_ENDED', async () => {
    const base = await serve((_url, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        `data: ${JSON.stringify(ev(1))}\n\nevent: error\ndata: {"code":"ERR_GATEWAY_RUN_EVENTS_OVERFLOW","message":"slow"}\n\n`,
      );
    });
    const got: RunEvent[] = [];
    const err = await (async () => {
      for await (const e of createGatewayClient({ baseUrl: base }).runEvents({
        kind: 'user',
        ref: 'alice',
      }))
        got.push(e);
    })().catch((e: unknown) => e);
    expect(got).toEqual([ev(1)]);
    expect(is(err, GatewayClientErrorCodes.EventsEnded)).toBe(true);
    expect(String((err as Error).message)).toContain('ERR_GATEWAY_RUN_EVENTS_OVERFLOW');
  });

  test('an error status rejects with a RemoteError; an abort just ends the iteration', async () => {
    const base = await serve((url, res) => {
      if (url.searchParams.has('userref')) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'ERR_GATEWAY_FORBIDDEN', message: 'user not authorized' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(ev(1))}\n\n`);
      // then nothing more: only the abort ends it
    });
    const gw = createGatewayClient({ baseUrl: base });
    const err = await (async () => {
      for await (const _ of gw.runEvents({ kind: 'user', ref: 'bob' })) void _;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).status).toBe(403);

    const ac = new AbortController();
    const got: RunEvent[] = [];
    for await (const e of gw.runEvents({ kind: 'project', ref: 'p' }, { signal: ac.signal })) {
      got.push(e);
      ac.abort();
    }
    expect(got).toEqual([ev(1)]);
  });
});
