import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './sections.js';

describe('parseListenAddress', () => {
  it.each([
    [':4002', { host: '0.0.0.0', port: 4002 }],
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
    ['localhost:8000', { host: 'localhost', port: 8000 }],
    ['[::1]:4000', { host: '::1', port: 4000 }],
  ])('parses %s', (address, expected) => {
    expect(parseListenAddress(address)).toEqual(expected);
  });

  it.each(['localhost', ':', ':70000', '::1:80', 'host:port'])('rejects %s', (address) => {
    expect(parseListenAddress(address)).toBeUndefined();
  });
});
