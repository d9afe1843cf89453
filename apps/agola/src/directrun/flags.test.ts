import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PR_REF_REGEXES,
  prRefRegexesOf,
  pushRefOf,
  targetOf,
  variablesOf,
} from './flags.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'directrun-flags-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('targetOf', () => {
  it('defaults to the branch master and keeps the one given', () => {
    expect(targetOf({})).toEqual({ branch: 'master' });
    expect(targetOf({ branch: 'dev' })).toEqual({ branch: 'dev' });
    expect(targetOf({ tag: 'v1' })).toEqual({ tag: 'v1' });
    expect(targetOf({ ref: 'refs/pull/3/head' })).toEqual({ ref: 'refs/pull/3/head' });
  });
  it('refuses more than one of --branch, --tag, --ref, an empty one, or a short ref', () => {
    expect(() => targetOf({ branch: 'a', tag: 'b' })).toThrow(
      /only one of --branch, --tag or --ref can be given \(got --branch, --tag\)/,
    );
    expect(() => targetOf({ branch: 'a', ref: 'refs/x' })).toThrow(/only one/);
    expect(() => targetOf({ tag: ' ' })).toThrow(/--tag is empty/);
    let code: unknown;
    try {
      targetOf({ ref: 'main' });
    } catch (err) {
      code = (err as { code: string }).code;
    }
    expect(code).toBe('ERR_AGOLA_DIRECTRUN_FLAGS');
  });
  it('maps the target to the ref it is pushed to', () => {
    expect(pushRefOf({ branch: 'master' })).toBe('refs/heads/master');
    expect(pushRefOf({ tag: 'v1' })).toBe('refs/tags/v1');
    expect(pushRefOf({ ref: 'refs/pull/3/head' })).toBe('refs/pull/3/head');
  });
});

describe('prRefRegexesOf', () => {
  it("gives Agola's defaults, splits on commas, refuses a bad regex", () => {
    expect(prRefRegexesOf(undefined)).toEqual(DEFAULT_PR_REF_REGEXES);
    expect(prRefRegexesOf(['a/(\\d+),b/(\\d+)', 'c'])).toEqual(['a/(\\d+)', 'b/(\\d+)', 'c']);
    expect(() => prRefRegexesOf(['refs/(unclosed'])).toThrow(/invalid regular expression/);
  });
});

describe('variablesOf', () => {
  it('reads var files in order, then --var wins', async () => {
    const yamlFile = join(dir, 'vars.yml');
    const jsonFile = join(dir, 'vars.json');
    await writeFile(yamlFile, 'A: from-yaml\nB: 2\nC: true\n__proto__: p\nconstructor: c\n');
    await writeFile(jsonFile, JSON.stringify({ B: 'from-json', D: null }));
    const vars = await variablesOf(['A=from-flag', 'E=x=y', 'F='], [yamlFile, jsonFile]);
    expect([...vars]).toEqual([
      ['A', 'from-flag'],
      ['B', 'from-json'],
      ['C', 'true'],
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['D', ''],
      ['E', 'x=y'],
      ['F', ''],
    ]);
  });
  it('refuses a --var without =, an empty name, a missing file, a file that is not a map', async () => {
    await expect(variablesOf(['NOEQUALS'], [])).rejects.toThrow(
      /--var "NOEQUALS": expected name=value/,
    );
    await expect(variablesOf(['=v'], [])).rejects.toThrow(/empty variable name/);
    await expect(variablesOf([], [join(dir, 'missing.yml')])).rejects.toMatchObject({
      code: 'ERR_AGOLA_DIRECTRUN_FLAGS',
      message: expect.stringMatching(/cannot read it/),
    });
    const list = join(dir, 'list.yml');
    await writeFile(list, '- a\n- b\n');
    await expect(variablesOf([], [list])).rejects.toThrow(/must be a map/);
    const nested = join(dir, 'nested.yml');
    await writeFile(nested, 'A:\n  b: c\n');
    await expect(variablesOf([], [nested])).rejects.toThrow(/value of "A" is not a scalar/);
    const broken = join(dir, 'broken.yml');
    await writeFile(broken, 'A: [unclosed\n');
    await expect(variablesOf([], [broken])).rejects.toThrow(/not valid YAML or JSON/);
  });
});
