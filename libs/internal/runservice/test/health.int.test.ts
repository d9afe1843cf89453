import { describe, expect, it } from 'vitest';
import { eventually, newInstallation, runRequest, startInstance, task } from './helpers.js';

interface Health {
  status: number;
  body: { status: string; reasons: Array<{ component: string; code: string; message: string }> };
}

async function health(url: string): Promise<Health> {
  const res = await fetch(new URL('/health', url));
  return { status: res.status, body: (await res.json()) as Health['body'] };
}

describe('runservice health', () => {
  it('reports the object storage and its failing sync, keeps serving, and recovers', async () => {
    const inst = await newInstallation();
    const blocked = { on: false };
    const ost = new Proxy(inst.ost!, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (blocked.on) throw new Error('connect ECONNREFUSED (test)');
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { client, url } = await startInstance({ ...inst, ost });
    await eventually(async () => expect((await health(url)).status).toBe(200));

    blocked.on = true;
    // a write still commits into etcd (inline wal); its sync into the storage fails
    const { run } = await client.createRun(runRequest([task('a')]));
    await eventually(async () => {
      const { status, body } = await health(url);
      expect(status).toBe(503);
      const components = body.reasons.map((r) => r.component).sort();
      expect(components).toEqual(['storage', 'storage-sync']);
      const sync = body.reasons.find((r) => r.component === 'storage-sync')!;
      expect(sync.message).toMatch(
        /the object storage sync has been failing since .* wals wait in etcd/,
      );
    }, 30_000);
    // reads keep working from the readdb
    expect((await client.getRun(run.id)).run.id).toBe(run.id);

    blocked.on = false;
    await eventually(async () => expect((await health(url)).status).toBe(200), 30_000);
  });
});
