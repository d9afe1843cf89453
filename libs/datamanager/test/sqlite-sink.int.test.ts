import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { eventually, fixture, put, type Fixture } from './helpers.js';
import { openTestReadDb, type TestReadDb } from './sqlite-readdb.js';

let fx: Fixture | undefined;
let dir: string | undefined;
const readdbs: TestReadDb[] = [];
const children: ChildProcess[] = [];
const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.all(readdbs.splice(0).map((r) => r.close()));
  await fx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  fx = undefined;
  dir = undefined;
});

/** What the datamanager holds for the given ids, as `type/id -> value`. */
async function expected(
  dm: ReturnType<Fixture['dm']>,
  ids: Iterable<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of ids) {
    const [type, id] = key.split('/') as [string, string];
    const v = await dm.read(type, id).then(
      (b) => b.toString(),
      () => undefined,
    );
    if (v !== undefined) out.set(key, v);
  }
  return out;
}

describe('sqlite sink', () => {
  test('a sqlite read model stays equal to read() through random writes from two writers', async () => {
    fx = await fixture();
    dir = await mkdtemp(join(tmpdir(), 'readdb-'));
    const opts = {
      minCheckpointWalsNum: 30,
      etcdWalsKeepNum: 20,
      intervals: { sync: 50, checkpoint: 150, etcdWalCleaner: 150 },
    };
    const a = fx.dm(opts);
    const b = fx.dm(opts);
    await Promise.all([a.start(), b.start()]);
    const readdb = await openTestReadDb(join(dir, 'readdb.sqlite'));
    readdbs.push(readdb);
    const ac = new AbortController();
    stops.push(ac);
    const following = a.follow(readdb.sink, { signal: ac.signal });
    const keys = new Set<string>();
    await Promise.all(
      [a, b].map(async (dm, w) => {
        for (let i = 0; i < 400; i++) {
          const type = i % 3 === 0 ? 'org' : 'user';
          const id = `k${(i * 7 + w * 13) % 150}`;
          keys.add(`${type}/${id}`);
          if (i % 7 === 0) await dm.write([{ actionType: 'delete', dataType: type, id }]);
          else await dm.write([put(type, id, `w${w}-${i}`)]);
        }
      }),
    );
    // instance a sees b's last writes through its watch a moment later: compare until both agree
    await eventually(async () => {
      const want = await expected(a, keys);
      const got = await readdb.all();
      return got.size === want.size && [...want].every(([k, v]) => got.get(k) === v);
    }, 45_000);
    // and it is at the last committed wal
    const walsData = JSON.parse(
      (await fx.etcd.get('datamanager/walsdata')).kv!.value.toString(),
    ) as {
      LastCommittedWalSequence: string;
    };
    expect((await readdb.sink.position())?.walSequence).toBe(walsData.LastCommittedWalSequence);
    // the read model also serves change-group tokens for writers, in the reading transaction
    const res = await a.write([put('user', 'z', '')], a.changeGroupsToken(['username-z']));
    await eventually(async () => {
      const token = await readdb.db.do((tx) =>
        readdb.sink.changeGroupsToken(tx, ['username-z', 'never']),
      );
      return (
        token.changeGroupsRevisions['username-z'] ===
          res.changeGroupsToken.changeGroupsRevisions['username-z'] &&
        token.changeGroupsRevisions['never'] === 0n &&
        token.curRevision > 0n
      );
    });
    ac.abort();
    await following;
  }, 90_000);

  test('a follower process killed mid-stream resumes: no duplicates, no gaps', async () => {
    fx = await fixture();
    dir = await mkdtemp(join(tmpdir(), 'readdb-'));
    const dm = fx.dm({ intervals: { sync: 50 } });
    await dm.start();
    const readdbPath = join(dir, 'readdb.sqlite');
    const spawnFollower = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [join(import.meta.dirname, 'fixtures', 'follower.mjs')],
          {
            env: {
              PATH: process.env['PATH'],
              DM_ETCD: fx!.endpoint,
              DM_PREFIX: fx!.etcd.prefix,
              DM_OST: fx!.ostDir,
              DM_READDB: readdbPath,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        children.push(child);
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('FOLLOWING')) resolve(child);
        });
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => reject(new Error(`follower exited (${code}): ${out}`)));
      });

    const keys = new Set<string>();
    const writeBatch = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        keys.add(`user/u${i % 40}`);
        await dm.write([put('user', `u${i % 40}`, `v${i}`)]);
      }
    };
    let child = await spawnFollower();
    // writes while the follower runs; it is killed in the middle of them
    const writing = writeBatch(0, 300);
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await writing;
    await writeBatch(300, 400); // and some while it is dead
    child = await spawnFollower();
    const readdb = await openTestReadDb(readdbPath);
    readdbs.push(readdb);
    const want = await expected(dm, keys);
    await eventually(async () => {
      const got = await readdb.all();
      return got.size === want.size && [...want].every(([k, v]) => got.get(k) === v);
    }, 20_000);
    // the position is the last wal: nothing skipped, nothing applied twice
    const last = (await dm.write([put('user', 'last', 'x')])).walSequence;
    await eventually(async () => (await readdb.sink.position())?.walSequence === last, 20_000);
    child.kill('SIGKILL');
  });
});
