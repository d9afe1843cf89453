import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { is, newError } from '@agola-ts/errors';
import { createEtcdClient } from '@agola-ts/etcd';
import type { ObjectStorage } from '@agola-ts/ost';
import { withBasePath } from '@agola-ts/ost';
import { getFreePort, type EtcdServer } from '@agola-ts/testkit';
import { silentLogger, type DataManagerContext } from '../src/context.js';
import { resolveOptions } from '../src/options.js';
import { listStorageWals, readWalActions, readWalHeader } from '../src/wals.js';
import {
  createDataManager,
  createMemorySink,
  DataManagerErrorCodes,
  ostPaths,
} from '../src/index.js';
import {
  allKeys,
  createOst,
  eventually,
  fixture,
  put,
  storedWals,
  type Fixture,
} from './helpers.js';

let fx: Fixture | undefined;
let etcd: EtcdServer | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await fx?.close();
  await etcd?.stop();
  for (const c of cleanups.splice(0)) await c();
  fx = undefined;
  etcd = undefined;
});

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that records every line. */
function recordingLogger() {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: object, msg?: string) =>
    void lines.push({ level, msg: msg ?? '', fields: fields as Record<string, unknown> });
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

/**
 * An object storage whose writes fail while `failWrite(key)` says so (a storage outage);
 * `beforeWrite` observes each write before it happens.
 */
function flakyOst(inner: ObjectStorage, failWrite: (key: string) => boolean) {
  const state: { ost: ObjectStorage; beforeWrite?: (key: string) => Promise<void> } = {
    ost: {
      stat: (key, o) => inner.stat(key, o),
      read: (key, o) => inner.read(key, o),
      delete: (key, o) => inner.delete(key, o),
      list: (prefix, o) => inner.list(prefix, o),
      write: async (key, data, o) => {
        if (failWrite(key)) throw newError(`injected storage failure writing ${key}`);
        await state.beforeWrite?.(key);
        await inner.write(key, data, o);
      },
    },
  };
  return state;
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code,
  );

describe('start()', () => {
  test('against an unreachable etcd: logs each backoff step with its cause, capped, and an abort rejects', async () => {
    const port = await getFreePort(); // nothing listens there: connection refused
    const client = createEtcdClient({ endpoints: `http://127.0.0.1:${port}`, prefix: 'x/' });
    cleanups.push(() => client.close());
    const { ost } = await createOst('posix');
    const { lines, logger } = recordingLogger();
    const dm = createDataManager({
      etcd: client,
      ost,
      basePath: 'configdata',
      dataTypes: ['user'],
      logger,
      intervals: { retry: 20, retryMax: 80 },
    });
    const ac = new AbortController();
    const starting = dm.start({ signal: ac.signal });
    const retries = () => lines.filter((l) => l.msg.includes('etcd init failed; retrying'));
    await eventually(() => retries().length >= 5, 20_000);
    ac.abort();
    const err = await starting.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(is(err, DataManagerErrorCodes.StartAborted)).toBe(true);
    // the rejection carries the cause of the last failure
    expect(err?.message).toContain('datamanager start aborted');
    expect(err?.message).toMatch(/UNAVAILABLE|ECONNREFUSED|etcd/);
    // each retry is logged with its cause, the delay doubling up to the cap
    const delays = retries().map((l) => l.fields['retryInMs']);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    for (const l of retries()) expect(String((l.fields['err'] as Error).message)).toContain('etcd');
    // the instance is not started: using it fails clearly
    await expect(dm.write([put('user', 'u', 'x')])).rejects.toMatchObject({
      code: DataManagerErrorCodes.NotStarted,
    });
  });

  test('against an etcd that never answers, an abort rejects at once', async () => {
    // accepts connections and never says a word (a black-holed endpoint)
    const sockets: Array<{ destroy(): void }> = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    const { port } = server.address() as { port: number };
    const client = createEtcdClient({
      endpoints: `http://127.0.0.1:${port}`,
      prefix: 'x/',
      callTimeoutMs: 60_000,
    });
    cleanups.push(() => client.close());
    const { ost } = await createOst('posix');
    const dm = createDataManager({ etcd: client, ost, basePath: 'c', dataTypes: ['user'] });
    const ac = new AbortController();
    const starting = code(dm.start({ signal: ac.signal }));
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    // resolves long before the 60 s call deadline (the test would time out otherwise)
    expect(await starting).toBe(DataManagerErrorCodes.StartAborted);
  });

  test('an already aborted signal rejects at once', async () => {
    fx = await fixture();
    const dm = fx.dm();
    expect(await code(dm.start({ signal: AbortSignal.abort() }))).toBe(
      DataManagerErrorCodes.StartAborted,
    );
  });

  test('an etcd holding another storage state fails with a mismatch error instead of looping', async () => {
    fx = await fixture();
    const a = fx.dm();
    await a.start();
    let last = '';
    // large enough not to go inline: the watcher of a mismatched instance would need the file
    for (let i = 0; i < 3; i++)
      last = (await a.write([put('user', `u${i}`, 'x'.repeat(70_000))])).walSequence;
    await eventually(
      async () =>
        (await fx!.etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value.toString() ===
        last,
    );
    await a.stop();

    // same etcd prefix, another (empty) object storage
    const other = await createOst('posix');
    cleanups.push(other.cleanup);
    const { lines, logger } = recordingLogger();
    const b = fx.dm({ ost: other.ost, logger });
    const err = await b.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(is(err, DataManagerErrorCodes.StorageMismatch)).toBe(true);
    expect(err?.message).toContain(`etcd's last synced wal ${last} is not in the object storage`);
    expect(err?.message).toContain('the storage holds no data snapshot');
    expect(lines.some((l) => l.msg.includes('watcher restarting'))).toBe(false);
    await expect(b.write([put('user', 'v', 'x')])).rejects.toMatchObject({
      code: DataManagerErrorCodes.NotStarted,
    });

    // another storage that happens to hold a header of that name, for another data file
    await other.ost.write(
      `configdata/${ostPaths.walHeader(last)}`,
      JSON.stringify({ WalDataFileID: 'another-file', PreviousWalSequence: '' }),
    );
    const c = fx.dm({ ost: other.ost });
    const err2 = await c.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(is(err2, DataManagerErrorCodes.StorageMismatch)).toBe(true);
    expect(err2?.message).toContain('in the object storage');
    expect(err2?.message).toContain('another-file');

    // the right storage still starts
    const d = fx.dm();
    await d.start();
    expect((await d.read('user', 'u2')).toString()).toBe('x'.repeat(70_000));
  });
});

describe('durability while the object storage fails', () => {
  test('unsynced wals are bounded, a lasting failure is logged at error level once, recovery is logged', async () => {
    fx = await fixture();
    let failing = false;
    const flaky = flakyOst(fx.ost, () => failing);
    const { lines, logger } = recordingLogger();
    const dm = fx.dm({
      ost: flaky.ost,
      logger,
      maxUnsyncedWals: 5,
      syncFailureErrorAfterMs: 300,
      syncFailureLogIntervalMs: 3_600_000,
      intervals: { sync: 50, retry: 20, retryMax: 50 },
    });
    await dm.start();
    await dm.write([put('user', 'before', 'b')]);
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);

    failing = true;
    const acked: string[] = [];
    for (let i = 0; i < 5; i++)
      acked.push((await dm.write([put('user', `u${i}`, `v${i}`)])).walSequence);
    await eventually(() => dm.storageSyncStatus().failingSince !== undefined);
    // the sixth is refused, with the sync's failure as the cause
    const refused = await dm.write([put('user', 'u5', 'v5')]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(is(refused, DataManagerErrorCodes.UnsyncedLimit)).toBe(true);
    expect(refused?.message).toContain('5 committed wals');
    expect(refused?.message).toContain('injected storage failure');
    const status = dm.storageSyncStatus();
    expect(status.unsyncedWals).toBe(5);
    expect(status.failingSince).toBeInstanceOf(Date);
    // nothing refused was committed
    await expect(dm.read('user', 'u5')).rejects.toMatchObject({
      code: DataManagerErrorCodes.NotExist,
    });

    const errors = () =>
      lines.filter((l) => l.level === 'error' && l.msg.includes('wal sync to the object storage'));
    await eventually(() => errors().length === 1);
    expect(errors()[0]!.fields['unsyncedWals']).toBe(5);
    // it keeps failing (and retrying) without repeating the error line within the interval
    const failuresAt = (errors()[0]!.fields['failures'] as number) ?? 0;
    await eventually(() =>
      lines.some(
        (l) =>
          l.level === 'debug' &&
          l.msg.includes('wal sync to the object storage failed') &&
          (l.fields['failingForMs'] as number) > 0,
      ),
    );
    await eventually(
      () =>
        lines.filter((l) => l.msg.includes('wal sync to the object storage failed')).length >
        failuresAt + 3,
    );
    expect(errors()).toHaveLength(1);
    expect(
      lines.filter(
        (l) => l.level === 'warn' && l.msg.includes('sync to the object storage failed'),
      ),
    ).toHaveLength(1);

    failing = false;
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);
    expect(lines.some((l) => l.level === 'info' && l.msg.includes('recovered after'))).toBe(true);
    expect(dm.storageSyncStatus().failingSince).toBeUndefined();
    // the acknowledged wals are all in the storage, and writes are accepted again
    const stored = await storedWals(fx.ost);
    for (const seq of acked) expect(stored.has(seq)).toBe(true);
    await dm.write([put('user', 'u5', 'v5')]);
    expect((await dm.read('user', 'u4')).toString()).toBe('v4');
  });

  test('the inline bytes waiting for the storage are bounded too', async () => {
    fx = await fixture();
    let failing = false;
    const flaky = flakyOst(fx.ost, () => failing);
    const dm = fx.dm({ ost: flaky.ost, maxUnsyncedBytes: 2000, intervals: { retry: 20 } });
    await dm.start();
    failing = true;
    // each wal is about 700 bytes encoded (base64 data)
    await dm.write([put('user', 'a', 'x'.repeat(500))]);
    await dm.write([put('user', 'b', 'x'.repeat(500))]);
    expect(await code(dm.write([put('user', 'c', 'x'.repeat(500))]))).toBe(
      DataManagerErrorCodes.UnsyncedLimit,
    );
    expect(dm.storageSyncStatus().unsyncedBytes).toBeGreaterThan(1000);
    failing = false;
    await dm.checkpoint({ force: true });
    expect(dm.storageSyncStatus().unsyncedWals).toBe(0);
    await dm.write([put('user', 'c', 'x'.repeat(500))]);
  });
});

describe('storage sync', () => {
  test('one sync pass writes a whole backlog as ONE durable object; old batches are cleaned', async () => {
    fx = await fixture();
    let failing = false;
    const flaky = flakyOst(fx.ost, (key) => failing && key.includes('/wals/'));
    const writes: string[] = [];
    flaky.beforeWrite = async (key) => void writes.push(key);
    const dm = fx.dm({
      ost: flaky.ost,
      etcdWalsKeepNum: 1,
      checkpointsToKeep: 1,
      intervals: { retry: 20, retryMax: 40 },
    });
    await dm.start();
    const first = await dm.write([put('user', 'first', 'x')]);
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);
    failing = true;
    const seqs = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const r = await dm.write([put('user', `u${i}`, `v${i}`)]);
        return r.walSequence;
      }),
    );
    seqs.sort();
    writes.length = 0;
    failing = false;
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);
    // one pass took the 50 wals: one object written, the batch named by the last one
    expect(writes).toEqual([`configdata/${ostPaths.walBatch(seqs[49]!)}`]);
    const stored = await storedWals(fx.ost);
    // the chain in the storage is gap-free and ends at the last wal; the data is in the batch
    let previous = first.walSequence;
    for (const seq of seqs) {
      const w = stored.get(seq)!;
      expect(w.in).toBe(`configdata/${ostPaths.walBatch(seqs[49]!)}`);
      expect(w.PreviousWalSequence).toBe(previous);
      expect(w.Data).toBeDefined();
      previous = seq;
    }
    expect((await fx.etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value.toString()).toBe(
      seqs[49],
    );
    // a new instance (no cache) reads them from the batch; a checkpoint too
    const other = fx.dm();
    await other.start();
    expect((await other.read('user', 'u7')).toString()).toBe('v7');
    await dm.checkpoint({ force: true });
    await dm.write([put('user', 'later', 'l')]);
    await dm.checkpoint({ force: true });
    await dm.clean();
    // the batch is older than every kept snapshot and every etcd wal: cleaned
    const keys = await allKeys(fx.ost, 'configdata/wals/batches/');
    expect(keys).not.toContain(`configdata/${ostPaths.walBatch(seqs[49]!)}`);
    expect((await other.read('user', 'u7')).toString()).toBe('v7');
    expect((await dm.read('user', 'u49')).toString()).toBe('v49');
  });

  test('a follower replays many small batches from the storage (more than the batch cache holds)', async () => {
    fx = await fixture();
    const dm = fx.dm();
    await dm.start();
    for (let i = 0; i < 40; i++) {
      await dm.write([put('user', `m${i}`, `v${i}`)]);
      await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);
    }
    expect((await allKeys(fx.ost, 'configdata/wals/batches/')).length).toBeGreaterThanOrEqual(40);
    // a new instance: its watcher and a follower read every wal from its batch
    const fresh = fx.dm();
    await fresh.start();
    const sink = createMemorySink();
    const ac = new AbortController();
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const following = fresh.follow(sink, { signal: ac.signal, onCaughtUp: () => caughtUp() });
    await ready;
    for (let i = 0; i < 40; i++) expect(sink.get('user', `m${i}`)?.toString()).toBe(`v${i}`);
    expect((await fresh.read('user', 'm0')).toString()).toBe('v0');
    ac.abort();
    await following;

    // a reader that read a wal's header, then many other batches (the first one left the
    // cache), still finds that wal's data by its id alone (as followers ask for it)
    const ctx: DataManagerContext = {
      etcd: fx.etcd.withPrefix('datamanager/'),
      ost: withBasePath(fx.ost, 'configdata/'),
      options: resolveOptions({
        etcd: fx.etcd,
        ost: fx.ost,
        basePath: 'configdata',
        dataTypes: ['user'],
      }),
      logger: silentLogger,
    };
    const seqs = await listStorageWals(ctx);
    const target = seqs[seqs.length - 40]!; // the wal of m0
    const header = await readWalHeader(ctx, target);
    for (const seq of seqs.slice(-30)) await readWalHeader(ctx, seq);
    const actions = await readWalActions(ctx, header.walDataFileId);
    expect(actions.map((x) => [x.id, x.data.toString()])).toEqual([['m0', 'v0']]);
  });
});
