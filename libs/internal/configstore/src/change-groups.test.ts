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
    expect(changeGroups.projectPath('org/acme/g')).toBe(sha256('projectpath-org/acme/g'));
    expect(changeGroups.entityId('p1')).toBe(sha256('p1'));
    expect(changeGroups.secretName('s')).toBe(sha256('secretname-s'));
    expect(changeGroups.secretId('s1')).toBe(sha256('secretid-s1'));
    expect(changeGroups.variableName('v')).toBe(sha256('variablename-v'));
    expect(changeGroups.variableId('v1')).toBe(sha256('variableid-v1'));
    expect(changeGroups.userName('alice')).toMatch(/^[0-9a-f]{64}$/);
  });
});
