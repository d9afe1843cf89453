import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  const table = new RouteTable();
  table.add('/api/v1alpha/users/:ref', ['GET', 'HEAD']);
  table.add('/api/v1alpha/users/:ref', 'DELETE');
  table.add('/api/v1alpha/files/*', 'GET');
  table.add('/api/v1alpha/a.b', 'PUT');

  it('lists the methods of a concrete path, sorted', () => {
    expect(table.methodsFor('/api/v1alpha/users/alice')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(table.methodsFor('/api/v1alpha/files/x/y/z')).toEqual(['GET']);
    expect(table.methodsFor('/api/v1alpha/a.b')).toEqual(['PUT']);
  });

  it('finds nothing for unknown paths (a param is one segment, dots are literal)', () => {
    expect(table.methodsFor('/api/v1alpha/users/alice/extra')).toEqual([]);
    expect(table.methodsFor('/api/v1alpha/users')).toEqual([]);
    expect(table.methodsFor('/api/v1alpha/aXb')).toEqual([]);
  });
});
