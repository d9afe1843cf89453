import { describe, expect, it } from 'vitest';
import { is } from '@agola-ts/errors';
import { NotificationErrorCodes } from './codes.js';
import {
  commitStatusOf,
  maskURL,
  runOwnerOf,
  statusContext,
  statusDescription,
  webRunURL,
} from './commit-status.js';
import { stateRank } from './run-states.js';

describe('commit statuses', () => {
  it('maps phase and result as Agola', () => {
    expect(commitStatusOf('setuperror', 'unknown')).toBe('error');
    expect(commitStatusOf('cancelled', 'unknown')).toBe('error');
    expect(commitStatusOf('running', 'unknown')).toBe('pending');
    expect(commitStatusOf('running', 'failed')).toBeUndefined();
    expect(commitStatusOf('queued', 'unknown')).toBeUndefined();
    expect(commitStatusOf('finished', 'success')).toBe('success');
    expect(commitStatusOf('finished', 'failed')).toBe('failed');
    expect(commitStatusOf('finished', 'stopped')).toBe('failed');
    expect(commitStatusOf('finished', 'unknown')).toBeUndefined();
  });

  it("uses Agola's descriptions, context and run link", () => {
    expect(statusDescription('pending')).toBe('The run is pending');
    expect(statusDescription('success')).toBe('The run finished successfully');
    expect(statusDescription('error')).toBe('The run encountered an error');
    expect(statusDescription('failed')).toBe('The run failed');
    expect(statusContext('agola', 'app', 'build')).toBe('agola/app/build');
    expect(webRunURL('https://ci.example.com', 'p-1 x', 12)).toBe(
      'https://ci.example.com/run?projectref=p-1+x&runnumber=12',
    );
  });

  it('finds the owner of a run group', () => {
    expect(runOwnerOf('/project/abc/branch/main')).toEqual({ type: 'project', id: 'abc' });
    expect(runOwnerOf('/user/u1/branch/x')).toEqual({ type: 'user', id: 'u1' });
    for (const bad of ['', '/', '/org/x', 'project/abc', '/project/']) {
      let err: unknown;
      try {
        runOwnerOf(bad);
      } catch (e) {
        err = e;
      }
      expect(is(err, NotificationErrorCodes.BadRunGroup), bad).toBe(true);
    }
  });

  it('masks credentials, query and fragment of URLs', () => {
    expect(maskURL('https://user:pw@hooks.example.com:8443/a/b?token=s3cret#frag')).toBe(
      'https://hooks.example.com:8443/a/b',
    );
    expect(maskURL('not a url')).toBe('<invalid url>');
  });

  it('ranks run states so that an older state never overrides a newer one', () => {
    expect(stateRank('queued', 'unknown')).toBeLessThan(stateRank('running', 'unknown'));
    expect(stateRank('running', 'unknown')).toBeLessThan(stateRank('running', 'failed'));
    expect(stateRank('running', 'failed')).toBeLessThan(stateRank('finished', 'unknown'));
    expect(stateRank('finished', 'failed')).toBe(stateRank('cancelled', 'success'));
  });
});
