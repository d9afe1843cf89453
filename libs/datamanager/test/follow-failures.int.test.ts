import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import type { ObjectStorage } from '@agola-ts/ost';
import { createTestLogger, startEtcd, type EtcdServer } from '@agola-ts/testkit';
import {
  createMemorySink,
  DataManagerErrorCodes,
  SinkApplyError,
  type DataManager,
  type FollowOptions,
  type FollowSink,
  type FollowStatus,
  type LostWals,
} from '../src/index.js';
import { eventually, fixture, put, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
let etcd: EtcdServer | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  await fx?.close();
  await etcd?.stop();
  fx = undefined;
  etcd = undefined;
});

/** A logger that keeps its lines (human form: `time LEVEL [name] msg key=value`). */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createTestLogger('datamanager', {
    level: 'debug',
    write: (line) => lines.push(line),
  });
  return { logger, lines };
}

function startFollow(dm: DataManager, sink: FollowSink, options: FollowOptions = {}) {
  const ac = new AbortController();
  stops.push(ac);
  const running = dm.follow(sink, { ...options, signal: ac.signal });
  // a test that never awaits it must not leave an unhandled rejection behind
  running.catch(() => undefined);
  return { ac, running };
}

/** A memory sink whose `applyAction` throws for the entries `refuse` picks. */
function refusingSink(refuse: (dataType: string, id: string) => boolean) {
  const inner = createMemorySink();
  let attempts = 0;
  const sink: FollowSink = {
    position: () => inner.position(),
    transaction: (fn) =>
      inner.transaction((tx) =>
        fn({
          ...tx,
          reset: () => tx.reset(),
          applyEntry: (e) => tx.applyEntry(e),
          replaceChangeGroups: (g) => tx.replaceChangeGroups(g),
          setChangeGroup: (n, r) => tx.setChangeGroup(n, r),
          setPosition: (p) => tx.setPosition(p),
          applyAction: async (a, seq) => {
            if (refuse(a.dataType, a.id)) {
              attempts++;
              throw new Error(`column "name" of ${a.id} cannot be null`);
            }
            await tx.applyAction(a, seq);
          },
        }),
      ),
  };
  return {
    sink,
    inner,
    get attempts() {
      return attempts;
    },
  };
}

/** The object storage, with writes under `wals/` failing while `blocked.on`. */
function blockableWals(ost: ObjectStorage) {
  const blocked = { on: false };
  const wrapped = new Proxy(ost, {
    get(target, prop, receiver) {
      if (prop === 'write') {
        return async (key: string, ...rest: unknown[]) => {
          if (blocked.on && key.includes('wals/')) throw new Error('storage unreachable (test)');
          return (target.write as (...args: unknown[]) => Promise<unknown>).call(
            target,
            key,
            ...rest,
          );
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { ost: wrapped, blocked };
}

describe('follower failures', () => {
  test('an entry the sink cannot apply: error log naming it, status failed, follow rejects', async () => {
    fx = await fixture();
    const { logger, lines } = capturingLogger();
    const dm = fx.dm({ logger });
    await dm.start();
    const r = refusingSink((_, id) => id === 'p-bad');
    const statuses: FollowStatus[] = [];
    const f = startFollow(dm, r.sink, {
      applyAttempts: 3,
      onStatus: (s) => statuses.push(s),
    });
    await dm.write([put('user', 'good', 'g')]);
    await eventually(() => r.inner.get('user', 'good') !== undefined);
    const bad = await dm.write([put('project', 'p-bad', '{}')]);
    await dm.write([put('user', 'after', 'a')]);
    const err = await f.running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkApplyError);
    const failure = err as SinkApplyError;
    expect(failure.code).toBe(DataManagerErrorCodes.SinkApply);
    expect(failure.entry).toEqual({
      dataType: 'project',
      id: 'p-bad',
      walSequence: bad.walSequence,
      source: 'wal',
    });
    expect(failure.message).toContain('cannot be null');
    // it tried exactly applyAttempts times, then stopped retrying it
    expect(r.attempts).toBe(3);
    const last = statuses[statuses.length - 1]!;
    expect(last.state).toBe('failed');
    expect(last.state === 'failed' && last.entry.id).toBe('p-bad');
    // the earlier failures were retries, with a growing delay
    const retries = statuses.filter((s) => s.state === 'retrying');
    expect(retries.map((s) => s.state === 'retrying' && s.attempt)).toEqual([1, 2]);
    const errors = lines.filter((l) => l.includes(' ERROR ') && l.includes('follower'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('follower stopped: the sink cannot apply project "p-bad"');
    expect(errors[0]).toContain(bad.walSequence);
    // the sink stays at the last wal it could apply: nothing after the bad entry
    expect(r.inner.get('user', 'good')?.toString()).toBe('g');
    expect(r.inner.get('user', 'after')).toBeUndefined();
  });

  test('a transient failure that clears before applyAttempts is retried, not fatal', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    await dm.write([put('user', 'flaky', 'f')]);
    let refusals = 0;
    const r = refusingSink((_, id) => id === 'flaky' && refusals++ < 2);
    const statuses: FollowStatus[] = [];
    startFollow(dm, r.sink, { applyAttempts: 3, onStatus: (s) => statuses.push(s) });
    await eventually(() => r.inner.get('user', 'flaky')?.toString() === 'f');
    await eventually(() => statuses[statuses.length - 1]?.state === 'following');
    expect(statuses.filter((s) => s.state === 'retrying')).toHaveLength(2);
    expect(statuses.some((s) => s.state === 'failed')).toBe(false);
  });

  test('etcd unreachable: retried with backoff, each retry logged with its cause, then recovers', async () => {
    etcd = await startEtcd();
    fx = await fixture('posix', etcd.endpoint);
    const { logger, lines } = capturingLogger();
    // the datamanager's own loops (watcher, committer) back off too: cap them like the
    // follower's, so the recovery after etcd returns is not a 10 s backoff step away
    const dm = fx.dm({ logger, intervals: { retry: 50, retryMax: 400 } });
    await dm.start();
    await dm.write([put('user', 'before', 'b')]);
    const sink = createMemorySink();
    const statuses: FollowStatus[] = [];
    startFollow(dm, sink, { onStatus: (s) => statuses.push(s), maxRetryDelayMs: 400 });
    await eventually(() => sink.get('user', 'before') !== undefined);
    await eventually(() => statuses[statuses.length - 1]?.state === 'following');
    await etcd.kill();
    // each attempt fails only once the etcd client's own calls give up: slow on a loaded machine
    await eventually(() => statuses.filter((s) => s.state === 'retrying').length >= 4, 60_000);
    const retries = statuses.filter(
      (s): s is Extract<FollowStatus, { state: 'retrying' }> => s.state === 'retrying',
    );
    // exponential backoff from intervals.retry, capped at maxRetryDelayMs
    expect(retries.slice(0, 4).map((s) => s.delayMs)).toEqual([50, 100, 200, 400]);
    const warnings = lines.filter((l) => l.includes(' WARN ') && l.includes('follower failed'));
    expect(warnings.length).toBeGreaterThanOrEqual(4);
    // each names its cause (etcd) and the delay
    for (const w of warnings.slice(0, 4)) {
      expect(w).toMatch(/etcd/i);
      expect(w).toMatch(/retrying in \d+ ms/);
    }
    // a transient failure is never logged as the follower's error
    expect(lines.some((l) => l.includes(' ERROR ') && l.includes('follower'))).toBe(false);
    await etcd.start();
    await eventually(
      async () => (await dm.write([put('user', 'back', 'x')]).catch(() => undefined)) !== undefined,
      30_000,
    );
    await eventually(() => sink.get('user', 'back')?.toString() === 'x', 30_000);
    expect(statuses[statuses.length - 1]?.state).toBe('following');
  }, 150_000);

  test('an etcd wipe that lost acknowledged wals is detected and logged at error level', async () => {
    etcd = await startEtcd();
    fx = await fixture('posix', etcd.endpoint);
    const { logger, lines } = capturingLogger();
    const storage = blockableWals(fx.ost);
    const dm = fx.dm({ logger, ost: storage.ost, intervals: { sync: 50 } });
    await dm.start();
    const sink = createMemorySink();
    const lost: LostWals[] = [];
    startFollow(dm, sink, { onWalsLost: (l) => lost.push(l) });
    let synced = '';
    for (let i = 0; i < 3; i++) synced = (await dm.write([put('user', `u${i}`, 'v')])).walSequence;
    await eventually(
      async () =>
        (await fx!.etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value.toString() ===
        synced,
    );
    // three acknowledged writes that never reach the object storage
    storage.blocked.on = true;
    const only: string[] = [];
    for (let i = 0; i < 3; i++) only.push((await dm.write([put('org', `o${i}`, 'x')])).walSequence);
    await eventually(() => sink.get('org', 'o2') !== undefined);
    await etcd.restart({ wipe: true });
    storage.blocked.on = false;
    await eventually(() => lost.length > 0, 30_000);
    expect(lost).toEqual([{ count: 3, from: only[0], to: only[2], continuesFrom: synced }]);
    // (the datamanager's own sync may log its failures at error level too)
    const errors = lines.filter((l) => l.includes(' ERROR ') && l.includes('wal(s) lost'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`3 acknowledged wal(s) lost, from ${only[0]} to ${only[2]}`);
    // the sink holds what survived, and goes on following
    await eventually(
      async () =>
        (await dm.write([put('user', 'after', 'a')]).catch(() => undefined)) !== undefined,
      20_000,
    );
    await eventually(() => sink.get('user', 'after') !== undefined, 20_000);
    expect(sink.get('org', 'o0')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(sink.get('user', `u${i}`)?.toString()).toBe('v');
    expect(lost).toHaveLength(1); // reported once
  });

  test('an import is a new chain, not a loss', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    await dm.write([put('user', 'old', 'o')]);
    const sink = createMemorySink();
    const lost: LostWals[] = [];
    const resyncs: string[] = [];
    startFollow(dm, sink, {
      onWalsLost: (l) => lost.push(l),
      onResync: (r) => resyncs.push(r),
    });
    await eventually(() => sink.get('user', 'old') !== undefined);
    const m = fx.dm({ maintenanceMode: true });
    await m.start();
    const entry = JSON.stringify({
      id: 'imported',
      data_type: 'user',
      data: Buffer.from('i').toString('base64'),
    });
    await m.import(Readable.from([Buffer.from(entry)]));
    await eventually(() => sink.get('user', 'imported') !== undefined, 20_000);
    expect(resyncs.length).toBeGreaterThan(0);
    expect(sink.get('user', 'old')).toBeUndefined();
    expect(lost).toEqual([]);
  });
});
