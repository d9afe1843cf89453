import { describe, expect, test } from 'vitest';
import { formatPath } from './path.js';
import { parseQuantity } from './quantity.js';
import { computeLevels } from './plan/levels.js';
import { gitHostOfUrl, staticEnvironment } from './plan/static-env.js';
import { cloneScript } from './plan/clone-script.js';
import { contextOfRef } from './ref.js';
import { compileWhenRegExp } from './when.js';
import { formatOfPath, CONFIG_FILE_PATHS } from './parse/format.js';
import { RunconfigErrorCodes } from './codes.js';
import { parseConfigSync } from './parse/parse-config.js';
import { planRuns } from './plan/plan-runs.js';

describe('helpers', () => {
  test('formatPath', () => {
    expect(formatPath([])).toBe('config');
    expect(formatPath(['runs', 0, 'tasks', 2, 'steps', 1])).toBe('runs[0].tasks[2].steps[1]');
    expect(formatPath(['docker_registries_auth', 'index.docker.io', 'type'])).toBe(
      'docker_registries_auth["index.docker.io"].type',
    );
  });

  test.each([
    ['1Gi', 1073741824],
    ['512Mi', 536870912],
    ['1.5G', 1500000000],
    ['100', 100],
    ['1k', 1000],
    ['2e3', 2000],
    ['0.5Ki', 512],
  ])('parseQuantity(%s) = %d', (text, bytes) => {
    expect(parseQuantity(text)).toBe(bytes);
  });

  test.each(['', 'lots', '1GB', '-1Gi', 'Gi'])('parseQuantity(%j) is invalid', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  test('computeLevels follows the longest path and refuses cycles', () => {
    const levels = computeLevels(
      new Map([
        ['a', []],
        ['b', ['a']],
        ['c', ['a', 'b']],
        ['d', []],
      ]),
    );
    expect(Object.fromEntries(levels)).toEqual({ a: 0, b: 1, c: 2, d: 0 });
    expect(() =>
      computeLevels(
        new Map([
          ['x', ['y']],
          ['y', ['x']],
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: RunconfigErrorCodes.Invalid }));
  });

  test.each([
    ['git@github.com:o/r.git', 'github.com', '22'],
    ['ssh://git@gitea.local:2222/o/r.git', 'gitea.local', '2222'],
    ['ssh://git@gitea.local/o/r.git', 'gitea.local', '22'],
    ['https://gitlab.example.com:8443/o/r.git', 'gitlab.example.com', '22'],
    ['not a url', '', '22'],
  ])('gitHostOfUrl(%s)', (url, host, port) => {
    expect(gitHostOfUrl(url)).toEqual({ host, port });
  });

  test('staticEnvironment has every AGOLA_ variable in Agola order', () => {
    const env = staticEnvironment({
      context: contextOfRef('refs/heads/main', 'sha1')!,
      repositoryUrl: 'git@h:o/r.git',
      sshPrivateKey: 'KEY',
      gitPort: 2200,
    });
    expect(env).toEqual({
      CI: 'true',
      AGOLA_SSHPRIVKEY: 'KEY',
      AGOLA_REPOSITORY_URL: 'git@h:o/r.git',
      AGOLA_GIT_HOST: 'h',
      AGOLA_GIT_PORT: '2200',
      AGOLA_GIT_BRANCH: 'main',
      AGOLA_GIT_TAG: '',
      AGOLA_PULL_REQUEST_ID: '',
      AGOLA_GIT_REF_TYPE: 'branch',
      AGOLA_GIT_REF: 'refs/heads/main',
      AGOLA_GIT_COMMITSHA: 'sha1',
    });
  });

  test('cloneScript clones, fetches the ref and checks out the commit', () => {
    const plain = cloneScript();
    expect(plain).toContain('git clone $AGOLA_REPOSITORY_URL .\n');
    expect(plain).toContain('git fetch origin $AGOLA_GIT_REF\n');
    expect(plain).toContain('git checkout $AGOLA_GIT_COMMITSHA');
    expect(plain).toContain('git checkout FETCH_HEAD');
    expect(plain).toContain('StrictHostKeyChecking $HOST_KEY_CHECK');
    expect(plain).toContain('Port $AGOLA_GIT_PORT');
    expect(cloneScript({ depth: 1, recurse_submodules: false })).toContain(
      'git clone --depth 1 $AGOLA_REPOSITORY_URL .',
    );
  });

  test('compileWhenRegExp keeps a bounded cache of recently used expressions', () => {
    const first = compileWhenRegExp('^bounded-0$');
    const kept = compileWhenRegExp('^bounded-kept$');
    expect(compileWhenRegExp('^bounded-0$')).toBe(first); // cached
    for (let i = 1; i <= 2000; i++) {
      compileWhenRegExp(`^bounded-${i}$`);
      if (i % 500 === 0) compileWhenRegExp('^bounded-kept$'); // used now and then: stays
    }
    expect(compileWhenRegExp('^bounded-kept$')).toBe(kept);
    const again = compileWhenRegExp('^bounded-0$');
    expect(again).not.toBe(first); // evicted, compiled anew
    expect(again.test('bounded-0')).toBe(true);
  });

  test('compileWhenRegExp maps RE2 leading flags', () => {
    expect(compileWhenRegExp('(?i)abc').test('ABC')).toBe(true);
    expect(compileWhenRegExp('abc').test('ABC')).toBe(false);
    expect(() => compileWhenRegExp('(')).toThrow(SyntaxError);
  });

  test('config file lookup order and formats', () => {
    expect(CONFIG_FILE_PATHS).toEqual([
      '.agola/config.star',
      '.agola/config.jsonnet',
      '.agola/config.json',
      '.agola/config.yml',
    ]);
    expect(CONFIG_FILE_PATHS.map(formatOfPath)).toEqual(['starlark', 'jsonnet', 'json', 'yaml']);
    expect(formatOfPath('x.yaml')).toBe('yaml');
  });
});

describe('user-written map keys', () => {
  test('__proto__ as an environment or registry name is kept as data', () => {
    const config = parseConfigSync(
      JSON.stringify({
        docker_registries_auth: { ['__proto__']: { username: 'u' } },
        runs: [
          {
            name: 'r',
            tasks: [
              {
                name: 't',
                runtime: { containers: [{ image: 'a' }] },
                environment: { ['__proto__']: 'x' },
              },
            ],
          },
        ],
      }),
      { path: 'c.json' },
    );
    const task = config.runs[0]!.tasks[0]!;
    expect(Object.keys(task.environment)).toEqual(['__proto__']);
    const planned = Object.values(
      planRuns({ config, context: contextOfRef('refs/heads/m')! }).runs[0]!.tasks,
    )[0]!;
    expect(Object.getOwnPropertyDescriptor(planned.environment, '__proto__')?.value).toBe('x');
    expect(Object.keys(planned.docker_registries_auth)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['username']).toBeUndefined();
  });
});
