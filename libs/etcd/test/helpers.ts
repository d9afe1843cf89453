import { createEtcdClient, type EtcdClient } from '../src/index.js';
import { sharedEtcdEndpoint, uniquePrefix } from '@agola-ts/testkit';

/** A client on the run's shared etcd under a prefix no other test uses. */
export async function testClient(label: string): Promise<EtcdClient> {
  return createEtcdClient({ endpoints: await sharedEtcdEndpoint(), prefix: uniquePrefix(label) });
}
