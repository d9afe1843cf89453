import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { is, newError } from '@agola-ts/errors';
import { createEtcdClient, Sequence } from '@agola-ts/etcd';
import type { ObjectStorage } from '@agola-ts/ost';
import { getFreePort, startEtcd, type EtcdServer } from '@agola-ts/testkit';
import {
  createDataManager,
  createMemorySink,
  DataManagerErrorCodes,
  ostPaths,
} from '../src/index.js';
import { allKeys, createOst, eventually, fixture, put, type Fixture } from './helpers.js';

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

async function text(ost: ObjectStorage, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await ost.read(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
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
    const keys = await allKeys(fx.ost, 'configdata/wals/status/');
    for (const seq of acked) expect(keys).toContain(`configdata/${ostPaths.walHeader(seq)}`);
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
  test('one sync pass writes a whole backlog as one durable batch, then the per-wal objects', async () => {
    fx = await fixture();
    let failing = false;
    const flaky = flakyOst(fx.ost, (key) => failing && key.includes('/wals/'));
    const dm = fx.dm({ ost: flaky.ost, intervals: { retry: 20, retryMax: 40 } });
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
    // observe the storage when the batch is written: no per-wal object of the pass exists yet
    const headersAtBatch: number[] = [];
    flaky.beforeWrite = async (key) => {
      if (key.includes('/wals/batches/'))
        headersAtBatch.push(
          (await allKeys(fx!.ost, 'configdata/wals/status/')).filter((k) =>
            k.endsWith('.committed'),
          ).length,
        );
    };
    failing = false;
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);
    // one pass took the 50 wals: one batch object named by the last one, holding all of them
    expect(headersAtBatch[0]).toBe(2); // the first wal + init's empty wal
    const batch = (await text(fx.ost, `configdata/${ostPaths.walBatch(seqs[49]!)}`))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { WalSequence: string; Data?: string });
    expect(batch.map((w) => w.WalSequence)).toEqual(seqs);
    expect(batch.every((w) => typeof w.Data === 'string')).toBe(true);
    // the chain in the storage is gap-free and ends at the last wal
    let previous = first.walSequence;
    for (const seq of seqs) {
      const header = JSON.parse(await text(fx.ost, `configdata/${ostPaths.walHeader(seq)}`)) as {
        PreviousWalSequence: string;
      };
      expect(header.PreviousWalSequence).toBe(previous);
      previous = seq;
    }
    expect((await fx.etcd.get('datamanager/lastcommittedstoragewalseq')).kv?.value.toString()).toBe(
      seqs[49],
    );
  });

  test('a pass cut short: readers never see its hole, and a recovery rewrites what the batch holds', async () => {
    etcd = await startEtcd();
    fx = await fixture('posix', etcd.endpoint);
    let failKeys = new Set<string>();
    const flaky = flakyOst(fx.ost, (key) => failKeys.has(key));
    const { lines, logger } = recordingLogger();
    const dm = fx.dm({ ost: flaky.ost, logger, intervals: { retry: 20, retryMax: 40 } });
    await dm.start();
    const kept: string[] = [];
    for (let i = 0; i < 3; i++)
      kept.push((await dm.write([put('user', `k${i}`, 'x')])).walSequence);
    await eventually(() => dm.storageSyncStatus().unsyncedWals === 0);

    // the next pass writes its batch and the header of the third wal, not those of the first two
    const seqOf = (n: number) => {
      const s = Sequence.parse(kept[2]!);
      return new Sequence(s.epoch, s.counter + BigInt(n)).toString();
    };
    failKeys = new Set([1, 2].map((n) => `configdata/${ostPaths.walHeader(seqOf(n))}`));
    const cut: string[] = [];
    for (let i = 0; i < 3; i++) cut.push((await dm.write([put('user', `l${i}`, 'y')])).walSequence);
    expect(cut).toEqual([seqOf(1), seqOf(2), seqOf(3)]);
    await eventually(async () =>
      (await allKeys(fx!.ost)).includes(`configdata/${ostPaths.walHeader(seqOf(3))}`),
    );

    // a follower starting now reads the storage up to the synced marker, then etcd: no resync
    const sink = createMemorySink();
    const resyncs: string[] = [];
    const ac = new AbortController();
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const following = dm.follow(sink, {
      signal: ac.signal,
      onResync: (reason) => resyncs.push(reason),
      onCaughtUp: () => caughtUp(),
    });
    await ready;
    expect(sink.get('user', 'l2')?.toString()).toBe('y');
    expect(resyncs.filter((r) => r.includes('gap'))).toEqual([]);
    ac.abort();
    await following;

    // the process dies and etcd is lost before the pass finishes
    await dm.stop();
    await etcd.restart({ wipe: true });
    failKeys = new Set();
    const dm2 = fx.dm({ logger, intervals: { retry: 20, retryMax: 40 } });
    await dm2.start();
    for (let i = 0; i < 3; i++) expect((await dm2.read('user', `k${i}`)).toString()).toBe('x');
    // nothing acknowledged is lost: the missing headers came back from the batch
    for (let i = 0; i < 3; i++) expect((await dm2.read('user', `l${i}`)).toString()).toBe('y');
    const repair = lines.find((l) => l.msg.includes('rewritten from their sync batches'));
    expect(repair?.fields['repaired']).toBe(2);
    const keys = await allKeys(fx.ost, 'configdata/wals/status/');
    for (const seq of cut) expect(keys).toContain(`configdata/${ostPaths.walHeader(seq)}`);
    const next = await dm2.write([put('user', 'after', 'a')]);
    expect((await dm2.read('user', 'after')).toString()).toBe('a');
    expect(next.walSequence > cut[2]!).toBe(true);
  });
});
