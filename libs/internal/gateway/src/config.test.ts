import { describe, expect, test } from 'vitest';
import { parseConfigText, serviceSection } from '@agola-ts/service-kit';
import { gatewaySchema } from './config.js';

const base = `
gateway:
  apiExposedURL: "http://agola.example:8000"
  webExposedURL: "http://agola.example:8000"
  runserviceURL: "http://localhost:4000"
  configstoreURL: "http://localhost:4002"
  etcd: { endpoints: "http://localhost:2379" }
  web:
    listenAddress: ":8000"
    allowedOrigins: ["http://ui.example"]
`;

describe('gatewaySchema', () => {
  test("reads Agola's gateway section: durations in ms, the listen address split", () => {
    const file = parseConfigText(
      `${base}  tokenSigning: { method: hmac, key: k1, duration: 1h30m }\n  adminToken: admintoken\n`,
      'test.yml',
    );
    expect(serviceSection(file, 'gateway', gatewaySchema)).toEqual({
      apiExposedURL: 'http://agola.example:8000',
      webExposedURL: 'http://agola.example:8000',
      runserviceURL: 'http://localhost:4000',
      configstoreURL: 'http://localhost:4002',
      web: { listen: { host: '0.0.0.0', port: 8000 }, allowedOrigins: ['http://ui.example'] },
      tokenSigning: { method: 'hmac', key: 'k1', durationMs: 5_400_000 },
      adminToken: 'admintoken',
    });
  });

  test('reports every problem: a missing key per method, an unknown method, an unknown key', () => {
    const rsa = parseConfigText(`${base}  tokenSigning: { method: rsa }\n`, 'a.yml');
    expect(() => serviceSection(rsa, 'gateway', gatewaySchema)).toThrow(
      /privateKeyPath.*publicKeyPath/s,
    );
    const hmac = parseConfigText(`${base}  tokenSigning: { method: hmac }\n`, 'b.yml');
    expect(() => serviceSection(hmac, 'gateway', gatewaySchema)).toThrow(/tokenSigning\.key/);
    const other = parseConfigText(
      `${base}  tokenSigning: { method: none }\n  tokenSignin: {}\n`,
      'c.yml',
    );
    expect(() => serviceSection(other, 'gateway', gatewaySchema)).toThrow(
      /tokenSigning\.method: must be one of/,
    );
    expect(() => serviceSection(other, 'gateway', gatewaySchema)).toThrow(
      /gateway\.tokenSignin: unknown key/,
    );
  });

  test('web.bundlePath (the web UI directory) is read; a non-string one is reported', () => {
    const file = parseConfigText(
      `${base.replace('    listenAddress: ":8000"', '    listenAddress: ":8000"\n    bundlePath: /srv/agola-web')}  tokenSigning: { method: hmac, key: k1 }\n`,
      'w.yml',
    );
    expect(serviceSection(file, 'gateway', gatewaySchema).web).toEqual({
      listen: { host: '0.0.0.0', port: 8000 },
      allowedOrigins: ['http://ui.example'],
      bundlePath: '/srv/agola-web',
    });
    const bad = parseConfigText(
      `${base.replace('    listenAddress: ":8000"', '    listenAddress: ":8000"\n    bundlePath: [a]\n    bundle: x')}  tokenSigning: { method: hmac, key: k1 }\n`,
      'x.yml',
    );
    expect(() => serviceSection(bad, 'gateway', gatewaySchema)).toThrow(/web\.bundlePath/);
    expect(() => serviceSection(bad, 'gateway', gatewaySchema)).toThrow(/web\.bundle: unknown key/);
  });
});
