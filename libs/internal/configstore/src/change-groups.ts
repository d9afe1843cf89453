import { createHash } from 'node:crypto';

/**
 * A change group name as Agola's: the sha256 hex of its readable form (`username-alice`), so
 * any name fits the datamanager's rules (no `/`, bounded length).
 */
function group(readable: string): string {
  return createHash('sha256').update(readable).digest('hex');
}

/** The change groups the configstore's mutations take (reference §6.3). */
export const changeGroups = {
  userName: (name: string) => group(`username-${name}`),
  userId: (id: string) => group(`userid-${id}`),
  orgName: (name: string) => group(`orgname-${name}`),
  orgId: (id: string) => group(`orgid-${id}`),
  orgMember: (orgId: string, userId: string) => group(`orgmember-${orgId}-${userId}`),
  remoteSourceName: (name: string) => group(`remotesourcename-${name}`),
  remoteSourceId: (id: string) => group(`remotesourceid-${id}`),
  /** A project group or project path (create and move take the old and the new one). */
  projectPath: (path: string) => group(`projectpath-${path}`),
  /** A project group or project id (delete; create and move take the parent's). */
  entityId: (id: string) => group(id),
  secretName: (name: string) => group(`secretname-${name}`),
  secretId: (id: string) => group(`secretid-${id}`),
  variableName: (name: string) => group(`variablename-${name}`),
  variableId: (id: string) => group(`variableid-${id}`),
};
