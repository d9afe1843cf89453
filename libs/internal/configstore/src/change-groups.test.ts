import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changeGroups } from './change-groups.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('changeGroups', () => {
  it("hashes Agola's readable group names", () => {
    expect(changeGroups.userName('alice')).toBe(sha256('username-alice'));
    expect(changeGroups.userId('u1')).toBe(sha256('userid-u1'));
    expect(changeGroups.orgName('acme')).toBe(sha256('orgname-acme'));
    expect(changeGroups.orgId('o1')).toBe(sha256('orgid-o1'));
    expect(changeGroups.orgMember('o1', 'u1')).toBe(sha256('orgmember-o1-u1'));
    expect(changeGroups.remoteSourceName('gitea')).toBe(sha256('remotesourcename-gitea'));
    expect(changeGroups.remoteSourceId('r1')).toBe(sha256('remotesourceid-r1'));
    expect(changeGroups.userName('alice')).toMatch(/^[0-9a-f]{64}$/);
  });
});
