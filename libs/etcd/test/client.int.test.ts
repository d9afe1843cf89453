import { afterEach, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import { sharedEtcdEndpoint, startEtcd } from '@agola-ts/testkit';
import {
  cmpCreateRevision,
  createEtcdClient,
  EtcdErrorCodes,
  opGet,
  opPut,
  type EtcdClient,
} from '../src/index.js';
import { testClient } from './helpers.js';

const clients: EtcdClient[] = [];
async function client(label = 'client') {
  const c = await testClient(label);
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('EtcdClient', () => {
  test('keys are scoped to the prefix and returned without it', async () => {
    const a = await client();
    const rev = await a.put('users/alice', 'A');
    expect(typeof rev).toBe('bigint');
    const { kv } = await a.get('users/alice');
    expect(kv?.key).toBe('users/alice');
    expect(kv?.value.toString()).toBe('A');
    expect(kv?.modRevision).toBe(rev);
    expect(kv?.version).toBe(1n);

    const b = await client();
    expect((await b.get('users/alice')).kv).toBeUndefined();
    expect((await b.list('')).kvs).toEqual([]);

    const child = a.withPrefix('users/');
    expect((await child.get('alice')).kv?.value.toString()).toBe('A');
    expect(child.prefix).toBe(`${a.prefix}users/`);
  });

  test('list is in key order, with limit, startAfter and a pinned revision', async () => {
    const c = await client();
    for (const k of ['b', 'a', 'c', 'a0', 'd']) await c.put(`k/${k}`, k);
    await c.put('other', 'x');
    const all = await c.list('k/');
    expect(all.kvs.map((kv) => kv.key)).toEqual(['k/a', 'k/a0', 'k/b', 'k/c', 'k/d']);
    const page = await c.list('k/', { limit: 2, startAfter: 'k/a0' });
    expect(page.kvs.map((kv) => kv.key)).toEqual(['k/b', 'k/c']);
    expect(page.more).toBe(true);

    const before = all.revision;
    await c.put('k/e', 'e');
    await c.delete('k/a');
    const old = await c.list('k/', { revision: before });
    expect(old.kvs.map((kv) => kv.key)).toEqual(['k/a', 'k/a0', 'k/b', 'k/c', 'k/d']);
  });

  test('listPaged reads every page at the first page revision', async () => {
    const c = await client();
    for (let i = 0; i < 25; i++) await c.put(`p/${String(i).padStart(2, '0')}`, String(i));
    const keys: string[] = [];
    const pages = c.listPaged('p/', { pageSize: 10 });
    let first = true;
    for await (const page of pages) {
      keys.push(...page.map((kv) => kv.key));
      if (first) {
        // a write after the first page must not show up in later pages
        await c.put('p/99', 'late');
        first = false;
      }
    }
    expect(keys).toHaveLength(25);
    expect(keys[24]).toBe('p/24');
  });

  test('atomicPut and atomicDelete compare the mod revision', async () => {
    const c = await client();
    const r1 = await c.atomicPut('x', '1', 0n);
    const err = await c.atomicPut('x', '2', 0n).catch((e: unknown) => e);
    expect(is(err, EtcdErrorCodes.Conflict)).toBe(true);
    const r2 = await c.atomicPut('x', '2', r1);
    expect(r2).toBeGreaterThan(r1);
    expect(
      is(await c.atomicDelete('x', r1).catch((e: unknown) => e), EtcdErrorCodes.Conflict),
    ).toBe(true);
    await c.atomicDelete('x', r2);
    expect((await c.get('x')).kv).toBeUndefined();
  });

  test('txn runs success or failure ops and returns their responses', async () => {
    const c = await client();
    const create = () =>
      c.txn({
        compare: [cmpCreateRevision('lock', '==', 0n)],
        success: [opPut('lock', 'me'), opGet('lock')],
        failure: [opGet('lock')],
      });
    const first = await create();
    expect(first.succeeded).toBe(true);
    expect(first.responses.map((r) => r.type)).toEqual(['put', 'get']);
    const second = await create();
    expect(second.succeeded).toBe(false);
    const [got] = second.responses;
    expect(got?.type === 'get' && got.kvs[0]?.value.toString()).toBe('me');
  });

  test('delete with prefix removes only that prefix', async () => {
    const c = await client();
    await c.put('a/1', '');
    await c.put('a/2', '');
    await c.put('ab', '');
    expect(await c.delete('a/', { prefix: true })).toBe(2);
    expect((await c.list('')).kvs.map((kv) => kv.key)).toEqual(['ab']);
  });

  test('an unreachable etcd fails fast with ERR_ETCD_UNAVAILABLE', async () => {
    const etcd = await startEtcd();
    const c = createEtcdClient({ endpoints: etcd.endpoint, prefix: 't/' });
    try {
      await c.put('k', 'v');
      await etcd.kill();
      const started = Date.now();
      const err = await c.get('k').catch((e: unknown) => e);
      expect(is(err, EtcdErrorCodes.Unavailable)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      await etcd.start();
      // no circuit breaker: the next call works once etcd is back
      expect((await c.get('k')).kv?.value.toString()).toBe('v');
    } finally {
      c.close();
      await etcd.stop();
    }
  });

  test('empty keys and endpoints are rejected', async () => {
    const root = createEtcdClient({
      endpoints: await sharedEtcdEndpoint(),
    });
    try {
      expect(is(await root.put('', 'x').catch((e: unknown) => e), EtcdErrorCodes.InvalidKey)).toBe(
        true,
      );
    } finally {
      root.close();
    }
    expect(() => createEtcdClient({ endpoints: [] })).toThrow('etcd endpoints must not be empty');
  });
});
