import { describe, expect, test } from 'vitest';
import { WalChanges } from './wal-changes.js';

const put = (id: string, data: string) => ({
  actionType: 'put' as const,
  dataType: 'user',
  id,
  data: Buffer.from(data),
});
const del = (id: string) => ({
  actionType: 'delete' as const,
  dataType: 'user',
  id,
  data: Buffer.alloc(0),
});

describe('WalChanges', () => {
  test('the newest wal wins whatever the order wals are applied in', () => {
    const c = new WalChanges();
    c.applyWal('0000000000001-0000000000005', [put('a', 'five')]);
    c.applyWal('0000000000001-0000000000004', [put('a', 'four'), put('b', 'four')]);
    expect(c.get('user', 'a')?.action.data.toString()).toBe('five');
    expect(c.get('user', 'b')?.action.data.toString()).toBe('four');
  });

  test('removing a wal drops only the entries it still holds', () => {
    const c = new WalChanges();
    c.applyWal('0000000000001-0000000000001', [put('a', '1'), put('b', '1')]);
    c.applyWal('0000000000001-0000000000002', [del('a')]);
    c.removeWal('0000000000001-0000000000001');
    expect(c.get('user', 'b')).toBeUndefined();
    expect(c.get('user', 'a')?.action.actionType).toBe('delete');
    c.removeWal('0000000000001-0000000000002');
    expect(c.get('user', 'a')).toBeUndefined();
    expect(c.walCount).toBe(0);
  });

  test('applying a wal twice counts once', () => {
    const c = new WalChanges();
    c.applyWal('0000000000001-0000000000001', [put('a', '1')]);
    c.applyWal('0000000000001-0000000000002', [put('a', '2')]);
    c.applyWal('0000000000001-0000000000001', [put('a', '1')]);
    expect(c.get('user', 'a')?.action.data.toString()).toBe('2');
  });
});
