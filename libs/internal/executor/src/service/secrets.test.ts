import { describe, expect, it } from 'vitest';
import { SECRET_ENV_ANNOTATION, secretEnvNames, secretValues } from './secrets.js';

describe('secret environment', () => {
  it('reads the names from the run config annotation, else the run', () => {
    const a = { annotations: { [SECRET_ENV_ANNOTATION]: '["A","B"]' } };
    const b = { annotations: { [SECRET_ENV_ANNOTATION]: '["C"]' } };
    expect(secretEnvNames(a, b)).toEqual(['A', 'B']);
    expect(secretEnvNames({}, b)).toEqual(['C']);
    expect(secretEnvNames(undefined, undefined)).toEqual([]);
  });

  it('a malformed list marks nothing; non-string entries are dropped', () => {
    expect(secretEnvNames({ annotations: { [SECRET_ENV_ANNOTATION]: 'A,B' } })).toEqual([]);
    expect(secretEnvNames({ annotations: { [SECRET_ENV_ANNOTATION]: '["A",1,null]' } })).toEqual([
      'A',
    ]);
  });

  it('collects the values of the named variables, own properties only, without duplicates', () => {
    const env = { A: 'one', B: 'two', C: '' };
    expect(secretValues(['A', 'C', 'toString', '__proto__'], [env, { A: 'one', D: 'x' }])).toEqual([
      'one',
    ]);
    expect(secretValues(['B', 'D'], [env, undefined, { D: 'x' }])).toEqual(['two', 'x']);
  });
});
