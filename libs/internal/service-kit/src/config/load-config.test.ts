import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { is } from '@agola-ts/errors';
import { dataServiceSchema } from './sections.js';
import { loadConfig, parseConfigText } from './load-config.js';
import { serviceSection } from './agola-config.js';
import { ConfigError } from './config-error.js';
import { duration, object, optional, stringMap } from './schema.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-kit-config-'));
});

const GOOD = `
id: myagola
gateway:
  apiExposedURL: http://localhost:8000
configstore:
  dataDir: /var/lib/agola/configstore
  web:
    listenAddress: ":4002"
  etcd:
    endpoints: "http://127.0.0.1:2379, http://127.0.0.2:2379"
  objectStorage:
    type: s3
    endpoint: minio:9000
    disableTLS: true
    bucket: configstore
    accessKey: minio
    secretAccessKey: minio123
    location: eu-west-1
runservice:
  debug: true
  dataDir: /var/lib/agola/runservice
  web:
    listenAddress: 127.0.0.1:4000
    tls: true
    tlsCertFile: /etc/agola/cert.pem
    tlsKeyFile: /etc/agola/key.pem
  objectStorage:
    type: posix
    path: /var/lib/agola/runservice/ost
`;

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The message of the error `fn` throws. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('loadConfig and serviceSection', () => {
  it('loads a good file and checks each service section', async () => {
    const config = await loadConfig(await file('good.yml', GOOD));
    expect(config.id).toBe('myagola');
    expect(serviceSection(config, 'configstore', dataServiceSchema)).toEqual({
      debug: false,
      dataDir: '/var/lib/agola/configstore',
      web: {
        listenAddress: ':4002',
        listen: { host: '0.0.0.0', port: 4002 },
        tls: false,
        allowedOrigins: [],
      },
      etcd: { endpoints: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'], tlsSkipVerify: false },
      objectStorage: {
        type: 's3',
        bucket: 'configstore',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
        region: 'eu-west-1',
        accessKeyId: 'minio',
        secretAccessKey: 'minio123',
      },
    });
    // typed as converted: no error shape in the checked type (this line must typecheck)
    const checked = serviceSection(config, 'configstore', dataServiceSchema);
    const port: number = checked.web.listen.port;
    const endpoints: string[] = checked.etcd.endpoints;
    expect([port, endpoints.length]).toEqual([4002, 2]);
    expect(serviceSection(config, 'runservice', dataServiceSchema)).toEqual({
      debug: true,
      dataDir: '/var/lib/agola/runservice',
      web: {
        listenAddress: '127.0.0.1:4000',
        listen: { host: '127.0.0.1', port: 4000 },
        tls: true,
        tlsCertFile: '/etc/agola/cert.pem',
        tlsKeyFile: '/etc/agola/key.pem',
        allowedOrigins: [],
      },
      etcd: { endpoints: ['http://127.0.0.1:2379'], tlsSkipVerify: false },
      objectStorage: { type: 'posix', path: '/var/lib/agola/runservice/ost' },
    });
  });

  it('defaults the id to "agola"', () => {
    expect(parseConfigText('configstore: {}', 'x.yml').id).toBe('agola');
  });

  const bad: [string, string, string][] = [
    [
      'bad endpoints',
      'dataDir: /d\nweb: {listenAddress: ":1"}\nobjectStorage: {type: posix, path: /o}\netcd: {endpoints: [foo]}',
      'configstore.etcd.endpoints: must be a list of URLs',
    ],
    [
      'a typo',
      'dataDir: /d\nweb: {listenAddress: ":1"}\nobjectStorage: {type: posix, path: /o}\netcd: {endpoint: "http://e:2379"}',
      'configstore.etcd.endpoint: unknown key (known keys: endpoints, tlsCertFile, tlsKeyFile, tlsCAFile, tlsSkipVerify)',
    ],
    [
      'missing keys',
      'web: {}\nobjectStorage: {type: posix}',
      'configstore.dataDir: is required; configstore.web.listenAddress: is required; configstore.objectStorage.path: is required',
    ],
    [
      'a bad storage type',
      'dataDir: /d\nweb: {listenAddress: ":1"}\nobjectStorage: {type: posixflat, path: /o}',
      'configstore.objectStorage.type: must be one of "posix", "s3"',
    ],
    [
      'tls without a certificate',
      'dataDir: /d\nweb: {listenAddress: ":1", tls: true}\nobjectStorage: {type: posix, path: /o}',
      'configstore.web.tlsCertFile: is required when tls is true; configstore.web.tlsKeyFile: is required when tls is true',
    ],
    [
      'every problem of a section at once',
      'web: {listenAddress: "localhost", tls: "yes"}\nobjectStorage: {type: posix}\netcd: {endpoints: ["http://a:1", "https://b:1"], tlsSkipVerify: 1, endpiont: x}',
      'configstore.dataDir: is required; configstore.web.listenAddress: must be host:port, like 0.0.0.0:4002; configstore.web.tls: must be true or false; configstore.etcd.endpiont: unknown key (known keys: endpoints, tlsCertFile, tlsKeyFile, tlsCAFile, tlsSkipVerify); configstore.etcd.endpoints: must all use the same scheme (http or https); configstore.etcd.tlsSkipVerify: must be true or false; configstore.objectStorage.path: is required',
    ],
    [
      'a bad listen address and a wrong type',
      'dataDir: 3\nweb: {listenAddress: "localhost"}\nobjectStorage: {type: posix, path: /o}\ndebug: "yes"',
      'configstore.debug: must be true or false; configstore.dataDir: must be a non-empty string; configstore.web.listenAddress: must be host:port, like 0.0.0.0:4002',
    ],
    [
      'mixed endpoint schemes',
      'dataDir: /d\nweb: {listenAddress: ":1"}\nobjectStorage: {type: posix, path: /o}\netcd: {endpoints: ["http://a:1", "https://b:1"]}',
      'configstore.etcd.endpoints: must all use the same scheme (http or https)',
    ],
    [
      'a list instead of a mapping',
      'dataDir: /d\nweb: [1]\nobjectStorage: {type: posix, path: /o}',
      'configstore.web: must be a mapping of keys to values',
    ],
  ];
  it.each(bad)('names the key of %s by its full path', (_what, section, expected) => {
    const text = `configstore:\n${section.replace(/^/gm, '  ')}\n`;
    const config = parseConfigText(text, 'c.yml');
    let thrown: unknown;
    try {
      serviceSection(config, 'configstore', dataServiceSchema);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toBe(`invalid config c.yml: ${expected}`);
    expect(is(thrown, 'ERR_SERVICE_INVALID_CONFIG')).toBe(true);
  });

  it('reports a missing section', () => {
    const config = parseConfigText('gateway: {}', 'c.yml');
    expect(messageOf(() => serviceSection(config, 'configstore', dataServiceSchema))).toBe(
      'invalid config c.yml: configstore: is required',
    );
  });

  it('rejects unknown top-level keys and a bad id', () => {
    expect(messageOf(() => parseConfigText('id: 1bad\nconfigstor: {}\n', 'c.yml'))).toBe(
      'invalid config c.yml: configstor: unknown key (known keys: id, gateway, scheduler, notification, runservice, executor, configstore, gitserver); id: must be a name of at most 20 letters, digits and dashes, starting with a letter',
    );
    expect(messageOf(() => parseConfigText('- a\n- b\n', 'c.yml'))).toBe(
      'invalid config c.yml: the file must be a mapping of keys to values',
    );
  });

  it('fails clearly on a missing file, bad YAML and duplicate keys', async () => {
    const missing = join(dir, 'missing.yml');
    await expect(loadConfig(missing)).rejects.toSatisfy(
      (err: Error) =>
        is(err, 'ERR_SERVICE_CONFIG_READ') &&
        err.message.startsWith(`reading config file ${missing}: ENOENT`),
    );
    const badYaml = await file('bad.yml', 'configstore:\n  dataDir: [\n');
    await expect(loadConfig(badYaml)).rejects.toSatisfy(
      (err: Error) =>
        is(err, 'ERR_SERVICE_CONFIG_READ') &&
        err.message.startsWith(`config file ${badYaml} is not valid YAML: `),
    );
    const twoErrors = await file(
      'two.yml',
      'configstore:\n  a: 1\n  a: 2\ngateway:\n  b: 1\n  b: 2\n',
    );
    await expect(loadConfig(twoErrors)).rejects.toThrow(
      /is not valid YAML: Map keys must be unique[^;]*; Map keys must be unique/,
    );
    const dup = await file('dup.yml', 'configstore: {}\nconfigstore: {}\n');
    await expect(loadConfig(dup)).rejects.toThrow(/is not valid YAML: Map keys must be unique/);
  });

  it('checks durations and string maps for custom sections', () => {
    const schema = object({
      interval: optional(duration(), 7 * 24 * 3_600_000),
      labels: optional(stringMap()),
    });
    const config = parseConfigText(
      'executor: {interval: 1h30m, labels: {a: b}}\ngitserver: {interval: 3 days}',
      'c.yml',
    );
    expect(serviceSection(config, 'executor', schema)).toEqual({
      interval: 5_400_000,
      labels: { a: 'b' },
    });
    expect(messageOf(() => serviceSection(config, 'gitserver', schema))).toBe(
      'invalid config c.yml: gitserver.interval: must be a duration like 30s, 15m or 12h',
    );
  });
});
