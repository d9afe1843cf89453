import { describe, expect, test } from 'vitest';
import { parseConfigText, serviceSection } from '@agola-ts/service-kit';
import { gitserverSchema } from './config.js';

describe('gitserverSchema', () => {
  test("reads Agola's gitserver section: Go durations in ms, the listen address split", () => {
    const file = parseConfigText(
      `gitserver:\n  dataDir: /data/gitserver\n  web: { listenAddress: "127.0.0.1:4003" }\n` +
        `  repositoryCleanupInterval: 1h30m\n  repositoryRefsExpireInterval: 720h\n` +
        `  etcd: { endpoints: "http://localhost:2379" }\n`,
      'test.yml',
    );
    expect(serviceSection(file, 'gitserver', gitserverSchema)).toEqual({
      dataDir: '/data/gitserver',
      web: { listen: { host: '127.0.0.1', port: 4003 } },
      repositoryCleanupIntervalMs: 5_400_000,
      repositoryRefsExpireIntervalMs: 720 * 3_600_000,
    });
  });

  test('reports a missing dataDir, a bad duration and an unknown key at once', () => {
    const file = parseConfigText(
      `gitserver:\n  web: { listenAddress: ":4003" }\n  repositoryCleanupInterval: 3 days\n  dataDirr: x\n`,
      'bad.yml',
    );
    const check = () => serviceSection(file, 'gitserver', gitserverSchema);
    expect(check).toThrow(/gitserver\.dataDir: is required/);
    expect(check).toThrow(/gitserver\.repositoryCleanupInterval: /);
    expect(check).toThrow(/gitserver\.dataDirr: unknown key/);
    const zero = parseConfigText(
      `gitserver:\n  dataDir: /d\n  web: { listenAddress: ":4003" }\n  repositoryRefsExpireInterval: 0s\n`,
      'zero.yml',
    );
    expect(() => serviceSection(zero, 'gitserver', gitserverSchema)).toThrow(
      /repositoryRefsExpireInterval: must be a positive duration/,
    );
  });
});
