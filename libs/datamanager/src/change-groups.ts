import { newError } from '@agola-ts/errors';
import { DataManagerErrorCodes } from './codes.js';
import type { ChangeGroupsToken } from './types.js';

/** Longest change group name (as Agola). */
export const MAX_CHANGE_GROUP_LENGTH = 256;

/**
 * Checks a change group name: not empty, no `/`, at most 256 characters.
 * @throws `ERR_DATAMANAGER_INVALID_CHANGE_GROUP`
 */
export function validateChangeGroupName(name: string): void {
  let problem: string | undefined;
  if (name.length === 0) problem = 'is empty';
  else if (name.includes('/')) problem = 'contains "/"';
  else if (name.length > MAX_CHANGE_GROUP_LENGTH) {
    problem = `is longer than ${MAX_CHANGE_GROUP_LENGTH} characters`;
  }
  if (problem) {
    throw newError(`change group name ${JSON.stringify(name.slice(0, 300))} ${problem}`, {
      code: DataManagerErrorCodes.InvalidChangeGroup,
    });
  }
}

/**
 * Encodes a token as a string (base64url of Agola's JSON `{"cur_revision",
 * "change_groups_revisions"}`), for handing it across an API.
 */
export function encodeChangeGroupsToken(token: ChangeGroupsToken): string {
  const groups = Object.entries(token.changeGroupsRevisions)
    .map(([name, rev]) => `${JSON.stringify(name)}:${rev}`)
    .join(',');
  return Buffer.from(
    `{"cur_revision":${token.curRevision},"change_groups_revisions":{${groups}}}`,
  ).toString('base64url');
}

/**
 * Decodes a token made by {@link encodeChangeGroupsToken}.
 * @throws `ERR_DATAMANAGER_INVALID_CHANGE_GROUP` for anything else.
 */
export function decodeChangeGroupsToken(text: string): ChangeGroupsToken {
  const bad = (detail: string) =>
    newError(`invalid change groups token: ${detail}`, {
      code: DataManagerErrorCodes.InvalidChangeGroup,
    });
  let json: string;
  try {
    json = Buffer.from(text, 'base64url').toString();
  } catch {
    throw bad('not base64');
  }
  // Revisions are int64: parse them as BigInt, not through JSON numbers.
  const m = /^\{"cur_revision":(\d+),"change_groups_revisions":\{(.*)\}\}$/s.exec(json);
  if (!m) throw bad('unexpected shape');
  const changeGroupsRevisions: Record<string, bigint> = {};
  const body = m[2]!;
  const entry = /("(?:[^"\\]|\\.)*"):(\d+)(,|$)/gy;
  let pos = 0;
  while (pos < body.length) {
    entry.lastIndex = pos;
    const e = entry.exec(body);
    if (!e) throw bad('unexpected change group entry');
    const name = JSON.parse(e[1]!) as string;
    validateChangeGroupName(name);
    changeGroupsRevisions[name] = BigInt(e[2]!);
    pos = entry.lastIndex;
  }
  return { curRevision: BigInt(m[1]!), changeGroupsRevisions };
}
