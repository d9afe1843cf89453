import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READDB_FILE } from '../src/index.js';
import {
  eventually,
  newInstallation,
  newS3Installation,
  remoteError,
  runRequest,
  startExecutor,
  startInstance,
  task,
  waitRun,
} from './helpers.js';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

describe('runservice cluster', () => {
  it('two instances on one etcd: a run created on one is served by the other, no task sent twice', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    const ex = await startExecutor({ id: 'ex1', client: a.client });
    const runs = [];
    for (let i = 0; i < 4; i++) {
      const client = i % 2 === 0 ? a.client : b.client;
      const { run } = await client.createRun(
        runRequest(
          [task(`x${i}`), task(`y${i}`, { depends: { [`x${i}`]: ['on_success'] } })],
          'p1',
        ),
      );
      runs.push(run);
    }
    // counters are per project, across instances
    expect(runs.map((r) => r.counter)).toEqual([1, 2, 3, 4]);
    for (const r of runs) await b.client.startRun(r.id);
    for (const r of runs) await waitRun(a.client, r.id, 'finished', 'success');
    for (const r of runs) expect((await b.client.getRun(r.id)).run.result).toBe('success');
    expect([...ex.received.values()].every((n) => n === 1)).toBe(true);
    expect(ex.received.size).toBe(8);
    const all = await b.client.getRuns({ asc: true });
    expect(all.runs.map((r) => r.id)).toEqual(runs.map((r) => r.id));
  });

  it('a run completes with every event source disabled (loops only)', async () => {
    const inst = await newInstallation();
    const { client } = await startInstance(inst, { pushDispatch: false });
    const ex = await startExecutor({ id: 'ex1', client });
    const { run } = await client.createRun(
      runRequest([task('a', { save: true }), task('b', { depends: { a: ['on_success'] } })]),
    );
    await client.startRun(run.id);
    const done = await waitRun(client, run.id, 'finished', 'success', 30_000);
    expect(done.tasks['b']?.status).toBe('success');
    expect(ex.received.get('b')).toBe(1);
  }, 45_000);

  it('lists runs by phase, result, group, last run and counter', async () => {
    const inst = await newInstallation();
    const { client } = await startInstance(inst);
    await startExecutor({ id: 'ex1', client });
    const main1 = await client.createRun(runRequest([task('a')], 'p1'));
    const main2 = await client.createRun(runRequest([task('a2')], 'p1'));
    const other = await client.createRun(
      runRequest([task('o')], 'p1', { group: '/project/p1/branch/feature' }),
    );
    const p2 = await client.createRun(runRequest([task('q')], 'p2'));
    await client.startRun(main1.run.id);
    await waitRun(client, main1.run.id, 'finished', 'success');
    const ids = (r: { runs: { id: string }[] }) => r.runs.map((x) => x.id);
    expect(ids(await client.getRuns({ phase: ['queued'], asc: true }))).toEqual([
      main2.run.id,
      other.run.id,
      p2.run.id,
    ]);
    expect(ids(await client.getRuns({ result: ['success'] }))).toEqual([main1.run.id]);
    expect(ids(await client.getRuns({ group: ['/project/p1'] }))).toEqual([
      other.run.id,
      main2.run.id,
      main1.run.id,
    ]);
    // "…/branch/main" does not match "…/branch/mainx"
    expect(ids(await client.getRuns({ group: ['/project/p1/branch/mai'] }))).toEqual([]);
    expect(ids(await client.getRuns({ group: ['/project/p1'], lastRun: true }))).toEqual([
      other.run.id,
      main2.run.id,
    ]);
    expect(ids(await client.getRuns({ limit: 2 }))).toHaveLength(2);
    expect(ids(await client.getRuns({ start: p2.run.id }))).toEqual([
      other.run.id,
      main2.run.id,
      main1.run.id,
    ]);
    const g = await client.getGroupRuns('/project/p1/branch/main', { asc: true });
    expect(g.runs.map((r) => r.counter)).toEqual([1, 2]);
    expect(ids(await client.getGroupRuns('/project/p1/branch/main', { start: 2 }))).toEqual([
      main1.run.id,
    ]);
    expect((await client.getRunByGroup('/project/p1/branch/feature', 3)).run.id).toBe(other.run.id);
    expect((await remoteError(client.getRunByGroup('/project/p1', 99))).status).toBe(404);
    expect((await remoteError(client.getRuns({ phase: ['bogus' as 'queued'] }))).status).toBe(400);
  });

  it('maintenance, export and import into a fresh installation; readdb rebuild', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    await startExecutor({ id: 'ex1', client: a.client });
    const { run } = await a.client.createRun(runRequest([task('a')]));
    await a.client.startRun(run.id);
    await waitRun(a.client, run.id, 'finished', 'success');
    await eventually(async () => expect((await a.client.getRun(run.id)).run.archived).toBe(true));
    await eventually(async () => {
      const { kv } = await inst.etcd.get(`scheduler/runs/${run.id}`);
      expect(kv).toBeUndefined();
    });
    const queued = await a.client.createRun(runRequest([task('b')]));
    const exported = await readAll(await a.client.export());
    expect(exported.toString()).toContain(run.id);
    // import needs maintenance mode
    expect((await remoteError(a.client.import(exported))).status).toBe(400);

    // readdb rebuild: a new instance with an empty data dir sees the archived run
    await a.stop();
    await rm(join(a.dataDir, READDB_FILE), { force: true });
    const a2 = await startInstance(inst, { dataDir: a.dataDir });
    expect((await a2.client.getRun(run.id)).run.result).toBe('success');
    expect((await a2.client.getRun(queued.run.id)).run.phase).toBe('queued');

    const fresh = await newInstallation();
    const b = await startInstance(fresh);
    await b.client.enableMaintenance();
    await eventually(async () => {
      await b.client.import(exported);
    });
    await b.client.disableMaintenance();
    await eventually(async () => {
      const { run: imported } = await b.client.getRun(run.id);
      expect(imported.result).toBe('success');
      expect(imported.archived).toBe(true);
    });
    // the counter came along: the next run of the project continues it
    const next = await eventually(() => b.client.createRun(runRequest([task('c')])));
    expect(next.run.counter).toBe(3);
  }, 60_000);

  it('an instance stopped in the middle of creations loses no acknowledged run', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const acked: string[] = [];
    const creating = Array.from({ length: 24 }, (_, i) =>
      a.client
        .createRun(runRequest([task(`t${i}`)], `p${i % 3}`))
        .then((r) => acked.push(r.run.id))
        .catch(() => undefined),
    );
    await eventually(async () => expect(acked.length).toBeGreaterThan(2));
    await a.stop();
    await Promise.all(creating);
    const b = await startInstance(inst);
    for (const id of acked) {
      const { run, run_config } = await b.client.getRun(id);
      expect(run.phase).toBe('queued');
      expect(run_config.id).toBe(id);
    }
    // counters stay unique per project
    const { runs } = await b.client.getRuns({ limit: 40 });
    for (const p of ['p0', 'p1', 'p2']) {
      const counters = runs
        .filter((r) => r.group.startsWith(`/project/${p}/`))
        .map((r) => r.counter);
      expect(new Set(counters).size).toBe(counters.length);
    }
  });

  it('runs on S3 storage', async () => {
    const inst = await newS3Installation();
    const { client } = await startInstance(inst);
    await startExecutor({ id: 'ex1', client });
    const { run } = await client.createRun(runRequest([task('a', { save: true })]));
    await client.startRun(run.id);
    await waitRun(client, run.id, 'finished', 'success');
    await eventually(async () => expect((await client.getRun(run.id)).run.archived).toBe(true));
    expect(Buffer.from(await client.getArchive('a', 1)).toString()).toBe('archive a 1');
    expect(await client.putCache('p1-k', Buffer.from('c'))).toBe('created');
    expect(await client.putCache('p1-k', Buffer.from('d'))).toBe('exists');
    expect(Buffer.from(await client.getCache('p1-', true)).toString()).toBe('c');
  }, 45_000);
});
