import { describe, expect, it } from 'vitest';
import { decodeRunToken } from '../src/index.js';
import {
  eventually,
  newInstallation,
  remoteError,
  runRequest,
  startExecutor,
  startFresh,
  startInstance,
  task,
  waitRun,
  type Instance,
} from './helpers.js';

const GROUP = '/project/p1/branch/main';

/** The active runs index of an instance, once the engine's watch has synced it. */
async function syncedIndex(i: Instance) {
  return eventually(async () => {
    const index = i.rs.engine?.estore.index;
    expect(index?.synced).toBe(true);
    return index!;
  });
}

describe('run by group and counter (active runs index)', () => {
  it('a run just created is found at once, from the index, with a token of no change group', async () => {
    const i = await startFresh();
    const index = await syncedIndex(i);
    const { run } = await i.client.createRun(runRequest([task('a')], 'p1'));
    // the own write is in the index without waiting for the watch
    expect(index.get(run.id)?.counter).toBe(run.counter);
    const got = await i.client.getRunByGroup(GROUP, run.counter);
    expect(got.run.id).toBe(run.id);
    expect(got.run.archived ?? false).toBe(false);
    expect(got.run_config.id).toBe(run.id);
    const token = decodeRunToken(got.change_groups_update_tokens);
    expect(token?.changeGroupsRevisions.size).toBe(0);
    expect(token!.curRevision > 0n).toBe(true);
    // a group prefix finds it too, another counter does not
    expect((await i.client.getRunByGroup('/project/p1', run.counter)).run.id).toBe(run.id);
    expect((await remoteError(i.client.getRunByGroup(GROUP, run.counter + 1))).status).toBe(404);
    expect((await remoteError(i.client.getRunByGroup('/project/p10', run.counter))).status).toBe(
      404,
    );
  });

  it('a run that moved from active to archived is found in the readdb', async () => {
    const i = await startFresh();
    const index = await syncedIndex(i);
    await startExecutor({ id: 'ex1', client: i.client });
    const { run } = await i.client.createRun(runRequest([task('a')], 'p1'));
    await i.client.startRun(run.id);
    await waitRun(i.client, run.id, 'finished', 'success');
    // the archiver marks it archived in etcd, stores it, then deletes it from etcd
    await eventually(async () => {
      expect((await i.client.getRun(run.id)).run.archived).toBe(true);
      expect(index.get(run.id)).toBeUndefined();
    }, 20_000);
    const archived = (await i.client.getRunByGroup(GROUP, run.counter)).run;
    expect(archived.id).toBe(run.id);
    expect(archived.archived).toBe(true);
    expect(archived.result).toBe('success');
    expect((await i.client.getRun(run.id)).run.archived).toBe(true);
  });

  it('two instances, one writes and the other serves: they agree after the watch', async () => {
    const inst = await newInstallation();
    const a = await startInstance(inst);
    const b = await startInstance(inst);
    const bIndex = await syncedIndex(b);
    await syncedIndex(a);
    const { run } = await a.client.createRun(runRequest([task('a')], 'p1'));
    // whether or not b's watch delivered it yet, b answers it
    expect((await b.client.getRunByGroup(GROUP, run.counter)).run.id).toBe(run.id);
    expect((await b.client.getRun(run.id)).run.id).toBe(run.id);
    await eventually(async () => expect(bIndex.get(run.id)?.id).toBe(run.id));
    // a change written by a (cancelled, then archived) reaches b and its answer
    await a.client.cancelRun(run.id);
    const seen = await eventually(async () => {
      const got = await b.client.getRunByGroup(GROUP, run.counter);
      expect(got.run.phase).toBe('cancelled');
      return got.run;
    });
    expect(seen.id).toBe(run.id);
    expect((await a.client.getRunByGroup(GROUP, run.counter)).run.phase).toBe('cancelled');
  });
});
