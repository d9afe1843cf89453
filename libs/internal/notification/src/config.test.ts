import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { ConfigError, parseConfigText, serviceSection } from '@agola-ts/service-kit';
import { notificationSchema } from './config.js';
import { signBody } from './webhooks.js';

function check(yaml: string) {
  return serviceSection(parseConfigText(yaml, 'config.yml'), 'notification', notificationSchema);
}

function issues(yaml: string): string[] {
  try {
    check(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

const base = `notification:
  webExposedURL: https://ci.example.com
  runserviceURL: http://127.0.0.1:4000
  configstoreURL: http://127.0.0.1:4002
`;

describe('notification config', () => {
  it('takes Agola keys and run webhooks, with defaults', () => {
    const c = check(
      `${base}  runWebhooks:
    - url: https://hooks.example.com/agola
      secret: s
      events: [finished, cancelled]
    - url: http://10.0.0.1:8080/x
      secret: t
  streamDownGrace: 10s
`,
    );
    expect(c.runWebhooks).toEqual([
      { url: 'https://hooks.example.com/agola', secret: 's', events: ['finished', 'cancelled'] },
      { url: 'http://10.0.0.1:8080/x', secret: 't' },
    ]);
    expect(c.streamDownGrace).toBe(10_000);
    expect(c.deliveryAttempts).toBe(6);
    expect(c.streamIdleTimeout).toBe(45_000);
    expect(check(`${base}  streamIdleTimeout: 2m\n`).streamIdleTimeout).toBe(120_000);
    expect(c.etcd.endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(check(base).runWebhooks).toEqual([]);
  });

  it('reports every bad webhook key at once', () => {
    expect(
      issues(`${base}  runWebhooks:
    - url: ftp://x.example.com/
      secret: s
    - url: https://x.example.com/
    - url: https://x.example.com/
      secret: s
      events: [done]
    - url: https://x.example.com/
      secret: s
      events: []
`),
    ).toEqual([
      'notification.runWebhooks[0].url: must be an http or https URL',
      'notification.runWebhooks[1].secret: is required',
      'notification.runWebhooks[2].events[0]: must be one of "queued", "running", "finished", "cancelled", "setuperror"',
      'notification.runWebhooks[3].events: must not be empty (leave it out for every event)',
    ]);
  });

  it('requires the three URLs', () => {
    expect(issues('notification:\n  debug: true\n')).toEqual([
      'notification.webExposedURL: is required',
      'notification.runserviceURL: is required',
      'notification.configstoreURL: is required',
    ]);
  });

  it('signs bodies with HMAC-SHA256', () => {
    const body = '{"run_id":"1"}';
    expect(signBody('k', body)).toBe(
      `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`,
    );
    expect(signBody('k', body)).not.toBe(signBody('k2', body));
  });
});
