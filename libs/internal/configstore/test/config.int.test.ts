import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConfigstoreClient } from '@agola-ts/configstore-client';
import { createEtcdClient } from '@agola-ts/etcd';
import { dataServiceSchema, parseConfigText, serviceSection } from '@agola-ts/service-kit';
import { sharedEtcdEndpoint } from '@agola-ts/testkit';
import { CONFIGSTORE_ETCD_PREFIX, createConfigstore } from '../src/index.js';

describe('configstore from a config file', () => {
  it('starts from its config section alone (etcd prefix configstore/, posix storage)', async () => {
    const endpoint = await sharedEtcdEndpoint();
    const root = await mkdtemp(join(tmpdir(), 'cs-config-'));
    // this is the only test of the run that uses the real prefix: start and end it clean
    const etcd = createEtcdClient({ endpoints: [endpoint], prefix: CONFIGSTORE_ETCD_PREFIX });
    await etcd.delete('', { prefix: true });
    const text = `
configstore:
  dataDir: ${join(root, 'data')}
  web:
    listenAddress: 127.0.0.1:0
  etcd:
    endpoints: ${endpoint}
  objectStorage:
    type: posix
    path: ${join(root, 'ost')}
`;
    const config = serviceSection(
      parseConfigText(text, 'config.yml'),
      'configstore',
      dataServiceSchema,
    );
    const cs = createConfigstore(config);
    try {
      await cs.start();
      expect(cs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1alpha$/);
      const client = createConfigstoreClient({ baseUrl: cs.url ?? '' });
      const user = await client.createUser({ user_name: 'from-config' });
      expect(await client.getUser('from-config')).toEqual(user);
      const { kvs } = await etcd.list('datamanager/', { limit: 1 });
      expect(kvs.length).toBe(1);
    } finally {
      await cs.stop();
      await etcd.delete('', { prefix: true });
      etcd.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
