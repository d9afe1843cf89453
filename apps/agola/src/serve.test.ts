import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '@agola-ts/service-kit';
import { checkSections, parseComponents } from './serve.js';

describe('agola serve components', () => {
  it('all-base holds every component but the executor', () => {
    expect([...parseComponents('all-base')].sort()).toEqual(
      ['configstore', 'gateway', 'gitserver', 'notification', 'runservice', 'scheduler'].sort(),
    );
    expect([...parseComponents('notification')]).toEqual(['notification']);
    expect([...parseComponents('gitserver,executor')]).toEqual(['gitserver', 'executor']);
    expect(() => parseComponents('gitsrv')).toThrow('unknown component "gitsrv"');
  });

  it('checks the notification section only when the component runs', () => {
    const config = parseConfigText(
      `notification:
  webExposedURL: http://127.0.0.1:8000
  runWebhooks:
    - url: ftp://hooks.example.com/
`,
      'config.yml',
    );
    expect(checkSections(config, new Set()).notification).toBeUndefined();
    let err: unknown;
    try {
      checkSections(config, new Set(['notification']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'notification.runserviceURL: is required',
      'notification.configstoreURL: is required',
      'notification.runWebhooks[0].url: must be an http or https URL',
      'notification.runWebhooks[0].secret: is required',
    ]);
  });
});
