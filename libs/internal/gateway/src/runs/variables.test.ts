import { describe, expect, it } from 'vitest';
import type { SecretResponse, VariableResponse } from '@agola-ts/types';
import {
  filterOverriddenVariables,
  isSameOrParentPath,
  matchingSecret,
  resolveVariables,
  variableWhen,
} from './variables.js';

const branch = (name: string) => ({
  refType: 'branch' as const,
  ref: `refs/heads/${name}`,
  branch: name,
});
const tag = (name: string) => ({ refType: 'tag' as const, ref: `refs/tags/${name}`, tag: name });

function secret(name: string, parentPath: string, data: Record<string, string>): SecretResponse {
  return {
    id: `${parentPath}/${name}`,
    name,
    type: 'internal',
    parent: { type: 'project', id: 'p' },
    data,
    ParentPath: parentPath,
  } as SecretResponse;
}

function variable(
  name: string,
  parentPath: string,
  values: VariableResponse['values'],
): VariableResponse {
  return {
    id: `${parentPath}/${name}`,
    name,
    parent: { type: 'project', id: 'p' },
    values,
    ParentPath: parentPath,
  } as VariableResponse;
}

describe('variableWhen', () => {
  it('reads the run config form and the decoded form alike', () => {
    expect(variableWhen({ branch: 'master', tag: ['/v.*/'] })).toEqual({
      branch: { include: [{ type: 'simple', match: 'master' }], exclude: [] },
      tag: { include: [{ type: 'regexp', match: 'v.*' }], exclude: [] },
    });
    expect(
      variableWhen({ ref: { include: [{ type: 'regexp', match: 'refs/.*' }], exclude: '#x#' } }),
    ).toEqual({
      ref: {
        include: [{ type: 'regexp', match: 'refs/.*' }],
        exclude: [{ type: 'regexp', match: 'x' }],
      },
    });
    expect(variableWhen(undefined)).toBeUndefined();
  });
});

describe('isSameOrParentPath', () => {
  it('compares whole path components', () => {
    expect(isSameOrParentPath('org/a', 'org/a/p')).toBe(true);
    expect(isSameOrParentPath('org/a', 'org/a')).toBe(true);
    expect(isSameOrParentPath('org/a/', 'org/a')).toBe(true);
    expect(isSameOrParentPath('org/a', 'org/ab/p')).toBe(false);
    expect(isSameOrParentPath('org/a/p', 'org/a')).toBe(false);
  });
});

describe('resolveVariables', () => {
  const secrets = [
    secret('s', 'org/o/p', { k: 'project-value' }),
    secret('s', 'org/o', { k: 'group-value', k2: 'group-k2' }),
    secret('below', 'org/o/p/sub', { k: 'never' }),
  ];

  it('takes the first value whose when matches, from the nearest secret at or above the variable', () => {
    const vars = [
      variable('V', 'org/o/p', [
        { secret_name: 's', secret_var: 'k', when: { branch: 'release' } },
        { secret_name: 's', secret_var: 'k' },
      ]),
      // a group variable reads the group's secret (the project's one is below it)
      variable('G', 'org/o', [{ secret_name: 's', secret_var: 'k2' }]),
    ];
    expect(resolveVariables(vars, secrets, branch('main'))).toEqual({
      V: 'project-value',
      G: 'group-k2',
    });
    expect(resolveVariables(vars, secrets, branch('release'))).toEqual({
      V: 'project-value',
      G: 'group-k2',
    });
  });

  it('leaves a variable unset when no value matches, or the secret or key is missing', () => {
    const vars = [
      variable('A', 'org/o/p', [{ secret_name: 's', secret_var: 'k', when: { tag: 'v1' } }]),
      variable('B', 'org/o/p', [{ secret_name: 'missing', secret_var: 'k' }]),
      variable('C', 'org/o/p', [{ secret_name: 's', secret_var: 'nokey' }]),
      variable('D', 'org/o', [{ secret_name: 'below', secret_var: 'k' }]),
      variable('E', 'org/o/p', [{ secret_name: 's', secret_var: 'constructor' }]),
    ];
    expect(resolveVariables(vars, secrets, branch('main'))).toEqual({});
    expect(resolveVariables(vars, secrets, tag('v1'))).toEqual({ A: 'project-value' });
  });

  it('a nearer variable overrides one of the same name above it', () => {
    const vars = [
      variable('V', 'org/o/p', [{ secret_name: 's', secret_var: 'k' }]),
      variable('V', 'org/o', [{ secret_name: 's', secret_var: 'k2' }]),
    ];
    expect(filterOverriddenVariables(vars).map((v) => v.ParentPath)).toEqual(['org/o/p']);
    expect(resolveVariables(vars, secrets, branch('main'))).toEqual({ V: 'project-value' });
    expect(
      matchingSecret({ secret_name: 's', secret_var: 'k' }, 'org/o', secrets)?.ParentPath,
    ).toBe('org/o');
  });
});
