import { describe, expect, test } from 'vitest';
import { RemoteError } from '@agola-ts/errors';
import { ADMIN_TOKEN, raw, startGateway, unique } from './helpers.js';

const API = '/api/v1alpha';

async function remoteError(p: Promise<unknown>): Promise<RemoteError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  return err as RemoteError;
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('gateway maintenance, export and import routes (admin only)', () => {
  test('a user gets 403, an anonymous caller 401, an unknown service 400', async () => {
    const gw = await startGateway();
    const name = unique('mnt');
    await gw.admin.createUser(name);
    const { token } = await gw.admin.createUserToken(name, 'cli');
    const user = gw.client({ token });
    for (const call of [
      () => user.enableMaintenance('configstore'),
      () => user.disableMaintenance('runservice'),
      () => user.getMaintenanceStatus('configstore'),
      () => user.exportData('configstore'),
      () => user.importData('configstore', new Uint8Array()),
    ]) {
      const err = await remoteError(call());
      expect(err.status).toBe(403);
      expect(err.remoteCode).toBe('ERR_GATEWAY_FORBIDDEN');
    }
    expect((await remoteError(gw.anonymous.exportData('configstore'))).status).toBe(401);
    expect((await raw(gw.root, 'PUT', `${API}/maintenance/configstore`)).status).toBe(401);
    const bad = await raw(gw.root, 'GET', `${API}/export/gateway`, {
      headers: { authorization: `token ${ADMIN_TOKEN}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'ERR_GATEWAY_INVALID_REQUEST' });
    expect((bad.json as { message: string }).message).toContain('configstore, runservice');
  });

  test("export, maintenance, import and back: the data is the export's", async () => {
    const gw = await startGateway();
    const name = unique('keep');
    const created = await gw.admin.createUser(name);

    const exported = await collect(await gw.admin.exportData('configstore'));
    // one JSON line per entity
    expect(exported.toString('utf8')).toContain(`{"id":"${created.id}","data_type":"user"`);

    // created after the export: the import replaces it away
    const later = unique('later');
    await gw.admin.createUser(later);

    // import is refused outside maintenance mode, with the configstore's code
    const normal = await remoteError(gw.admin.importData('configstore', exported));
    expect(normal.status).toBe(400);
    expect(normal.remoteCode).toBe('ERR_DATAMANAGER_NOT_IN_MAINTENANCE');

    expect(await gw.admin.getMaintenanceStatus('configstore')).toEqual({
      requested_status: false,
      current_status: false,
    });
    await gw.admin.enableMaintenance('configstore');
    try {
      // the configstore's status, passed through: served once its switch is done
      await eventually(async () =>
        expect(await gw.admin.getMaintenanceStatus('runservice')).toEqual({
          requested_status: false,
          current_status: false,
        }),
      );
      await eventually(async () =>
        expect(await gw.admin.getMaintenanceStatus('configstore')).toEqual({
          requested_status: true,
          current_status: true,
        }),
      );
      // a second enable: the configstore says it already is (once its switch is done: in
      // between it answers 503, which the gateway reports as a 500)
      const again = await eventually(async () => {
        const e = await remoteError(gw.admin.enableMaintenance('configstore'));
        if (e.status !== 400) throw e;
        return e;
      });
      expect(again.remoteCode).toBe('ERR_DATAMANAGER_MAINTENANCE_STATE');

      // the switch reaches the configstore through its etcd watch: retry while it is not there
      await eventually(() =>
        gw.admin.importData(
          'configstore',
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(new Uint8Array(exported));
              c.close();
            },
          }),
        ),
      );
    } finally {
      await eventually(() => gw.admin.disableMaintenance('configstore'));
    }
    const user = await eventually(() => gw.admin.getUser(name));
    expect(user.username).toBe(name);
    expect((await remoteError(gw.admin.getUser(later))).status).toBe(404);
  });

  test('an import body above the 1 MiB JSON limit reaches the service, not the 417 of the JSON routes', async () => {
    const gw = await startGateway();
    const big = new Uint8Array(2 * 1024 * 1024).fill(0x20);
    // outside maintenance mode the configstore itself refuses it, with its own code
    const err = await remoteError(gw.admin.importData('configstore', big));
    expect(err.status).toBe(400);
    expect(err.remoteCode).toBe('ERR_DATAMANAGER_NOT_IN_MAINTENANCE');
    // the refused upload leaves nothing stuck between the gateway and the configstore
    await gw.admin.enableMaintenance('configstore');
    await eventually(() => gw.admin.disableMaintenance('configstore'));
    await eventually(() => gw.admin.getUsers());
    // a JSON route of the same gateway still has the limit
    const json = await raw(gw.root, 'POST', `${API}/orgs`, {
      headers: { authorization: `token ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: ' '.repeat(2 * 1024 * 1024),
    });
    expect(json.status).toBe(417);
  });
});
