// Run config strictness: unknown keys, JSON parsed as JSON, a place on every message,
// nameless tasks reporting their other problems, and depends planned as Agola writes them.
import { describe, expect, test } from 'vitest';
import {
  RunconfigErrorCodes,
  configIssuesOf,
  contextOfRef,
  formatIssue,
  parseConfig,
  parseConfigSync,
  planRuns,
  planRunsFromFile,
  type ConfigIssue,
} from '../src/index.js';

function issuesOf(text: string, path = '.agola/config.yml'): readonly ConfigIssue[] {
  try {
    parseConfigSync(text, { path });
  } catch (err) {
    const issues = configIssuesOf(err);
    if (!issues) throw err;
    return issues;
  }
  throw new Error('expected a validation error');
}

const texts = (issues: readonly ConfigIssue[]) => issues.map(formatIssue);

describe('unknown keys', () => {
  test("a top-level version (as in Agola's examples) is accepted and ignored; it must be a string", () => {
    const ok =
      'version: v0\nruns:\n  - name: ci\n    tasks:\n      - name: a\n        runtime: { containers: [{ image: alpine }] }\n        steps: [{ run: make }]\n';
    expect(parseConfigSync(ok, { path: '.agola/config.yml' }).runs[0]!.name).toBe('ci');
    expect(texts(issuesOf(ok.replace('version: v0', 'version: [v0]')))).toEqual([
      '.agola/config.yml:1:10: version: expected a string, got a list',
    ]);
  });

  test('typos are errors at the key, with the nearest known key suggested', () => {
    const text = [
      'runs:',
      '  - name: ci',
      '    tasks:',
      '      - name: build',
      '        runtime: { containers: [{ image: alpine }] }',
      '        enviroment: { A: b }',
      '        step:',
      '          - run: make',
      '      - name: test',
      '        runtime: { containers: [{ image: alpine }] }',
      '        depend: [build]',
    ].join('\n');
    expect(texts(issuesOf(text))).toEqual([
      '.agola/config.yml:6:9: runs[0].tasks[0].enviroment: unknown key "enviroment" (did you mean "environment"?)',
      '.agola/config.yml:7:9: runs[0].tasks[0].step: unknown key "step" (did you mean "steps"?)',
      '.agola/config.yml:11:9: runs[0].tasks[1].depend: unknown key "depend" (did you mean "depends"?)',
    ]);
  });

  test('every map of the format is checked', () => {
    const text = `
docker_registries_auth:
  r.example.com: { usename: u }
runs:
  - name: ci
    task: []
    when: { branches: main }
    tasks:
      - name: build
        runtime:
          archs: amd64
          containers:
            - imag: alpine
              image: alpine
              volumes: [{ path: /t, tmpfs: { sise: 1Gi } }]
        environment: { T: { from_varible: t } }
        steps:
          - { type: run, comand: make, command: make }
          - run: { command: make, tyy: false }
          - save_cache: { key: k, contents: [{ source_dir: ., path: [x] }] }
          - rn: make
      - name: test
        runtime: { containers: [{ image: alpine }] }
        depends: [{ task: build, condition: [on_failure] }]
        when: { branch: { include: main, exlude: dev } }
`;
    expect(issuesOf(text).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'docker_registries_auth["r.example.com"].usename: unknown key "usename" (did you mean "username"?)',
      'runs[0].task: unknown key "task" (did you mean "tasks"?)',
      'runs[0].when.branches: unknown key "branches" (did you mean "branch"?)',
      'runs[0].tasks[0].runtime.archs: unknown key "archs" (did you mean "arch"?)',
      'runs[0].tasks[0].runtime.containers[0].imag: unknown key "imag" (did you mean "image"?)',
      'runs[0].tasks[0].runtime.containers[0].volumes[0].tmpfs.sise: unknown key "sise" (did you mean "size"?)',
      'runs[0].tasks[0].environment.T.from_varible: unknown key "from_varible" (did you mean "from_variable"?)',
      'runs[0].tasks[0].steps[0].comand: unknown key "comand" (did you mean "command"?)',
      'runs[0].tasks[0].steps[1].run.tyy: unknown key "tyy" (did you mean "tty"?)',
      'runs[0].tasks[0].steps[2].save_cache.contents[0].path: unknown key "path" (did you mean "paths"?)',
      'runs[0].tasks[0].steps[3]: unknown step type "rn" (did you mean "run"?)',
      'runs[0].tasks[1].depends[0].condition: unknown key "condition" (did you mean "conditions"?)',
      'runs[0].tasks[1].when.branch.exlude: unknown key "exlude" (did you mean "exclude"?)',
    ]);
  });

  test('a key far from every known one lists the known keys', () => {
    const text =
      'xyzzy: v0\nruns: [{name: r, tasks: [{name: t, runtime: {containers: [{image: a}]}}]}]';
    expect(texts(issuesOf(text))).toEqual([
      '.agola/config.yml:1:1: xyzzy: unknown key "xyzzy" (known keys: version, runs, docker_registries_auth)',
    ]);
  });

  test('top-level keys starting with "." hold YAML anchors and are allowed', () => {
    const text = `
.base: &base
  runtime: { containers: [{ image: alpine }] }
runs:
  - name: ci
    tasks:
      - <<: *base
        name: build
`;
    expect(parseConfigSync(text).runs[0]!.tasks[0]!.runtime.containers[0]!.image).toBe('alpine');
  });

  test('names such as __proto__ and constructor are plain unknown keys', () => {
    const text =
      '{"runs": [{"name": "r", "__proto__": {"x": 1}, "constructor": 1, "tasks": [{"name": "t", "runtime": {"containers": [{"image": "a"}]}}]}]}';
    expect(issuesOf(text, 'config.json').map((i) => i.message)).toEqual([
      'unknown key "__proto__" (known keys: name, tasks, when, docker_registries_auth)',
      'unknown key "constructor" (known keys: name, tasks, when, docker_registries_auth)',
    ]);
  });
});

describe('.json configs are parsed as JSON', () => {
  const valid =
    '{"runs": [{"name": "r", "tasks": [{"name": "t", "runtime": {"containers": [{"image": "a"}]}}]}]}';

  test('a valid JSON config parses as its YAML twin', () => {
    expect(parseConfigSync(valid, { path: 'config.json' })).toEqual(parseConfigSync(valid));
  });

  test.each([
    [
      'a trailing comma',
      '{"runs": [],\n}',
      'config.json:2:1: unexpected "}" (expected a double-quoted property name)',
    ],
    ['a YAML comment', '# ci\n{"runs": []}', 'config.json:1:1: unexpected "#" (expected a value)'],
    [
      'an unquoted string',
      '{"runs": [{"name": ci}]}',
      'config.json:1:20: unexpected "c" (expected a value)',
    ],
    [
      'a single-quoted key',
      "{'runs': []}",
      `config.json:1:2: unexpected "'" (expected a double-quoted property name)`,
    ],
    ['YAML', 'runs:\n  - name: ci', 'config.json:1:1: unexpected "r" (expected a value)'],
    [
      'a missing comma',
      '{\n  "runs": []\n  "x": 1\n}',
      `config.json:3:3: unexpected "\\"" (expected ',' or '}' after a property)`,
    ],
    [
      'text after the value',
      '{"runs": []} x',
      'config.json:1:14: unexpected text after the JSON value',
    ],
    ['an unterminated string', '{"runs', 'config.json:1:2: unterminated string'],
    ['a bad escape', '{"ru\\x": 1}', 'config.json:1:2: invalid escape sequence in a string'],
    [
      'a bad number',
      '{"a": 01}',
      `config.json:1:8: unexpected "1" (expected ',' or '}' after a property)`,
    ],
    ['an empty file', '', 'config.json:1:1: unexpected the end of the input (expected a value)'],
  ])('%s is a JSON syntax error with file:line:column', (_name, text, message) => {
    expect(() => parseConfigSync(text, { path: 'config.json' })).toThrow(
      expect.objectContaining({ code: RunconfigErrorCodes.Parse, message }),
    );
  });

  test('nesting too deep is a syntax error, not a crash', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(() => parseConfigSync(deep, { path: 'config.json' })).toThrow(
      expect.objectContaining({ code: RunconfigErrorCodes.Parse }),
    );
  });

  test('validation issues of a JSON config carry its line and column', () => {
    const text =
      '{\n  "runs": [\n    {\n      "name": "r",\n      "tasks": [{"name": "t", "step": []}]\n    }\n  ]\n}';
    expect(texts(issuesOf(text, 'config.json'))).toEqual([
      // unknown keys of a map first, then its other problems
      'config.json:5:31: runs[0].tasks[0].step: unknown key "step" (did you mean "steps"?)',
      'config.json:5:17: runs[0].tasks[0].runtime: runtime is required',
    ]);
  });

  test('issues of a jsonnet config point into the JSON it generated', async () => {
    const generated = '{\n  "runs": [\n    {"name": "r", "tasks": []}\n  ]\n}\n';
    const err = await parseConfig('{}', {
      path: '.agola/config.jsonnet',
      jsonnet: async () => generated,
    }).catch((e: unknown) => e);
    expect(configIssuesOf(err)?.map(formatIssue)).toEqual([
      '.agola/config.jsonnet (generated JSON):3:28: runs[0].tasks: at least one task is required',
    ]);
  });
});

describe('a task without a name', () => {
  test('still reports its other problems', () => {
    const text = `
runs:
  - name: ci
    tasks:
      - runtime: { containers: [{ imag: alpine }] }
        depends: [nothere]
        steps:
          - run: {}
      - name: ok
        runtime: { containers: [{ image: alpine }] }
`;
    expect(texts(issuesOf(text))).toEqual([
      '.agola/config.yml:5:9: runs[0].tasks[0].name: name is required',
      '.agola/config.yml:5:35: runs[0].tasks[0].runtime.containers[0].imag: unknown key "imag" (did you mean "image"?)',
      '.agola/config.yml:5:33: runs[0].tasks[0].runtime.containers[0].image: image is required',
      '.agola/config.yml:8:13: runs[0].tasks[0].steps[0]: command is required',
      '.agola/config.yml:6:19: runs[0].tasks[0].depends[0]: task "nothere" does not exist',
    ]);
  });
});

describe('depends', () => {
  test('a dependency written without conditions plans as ["on_success"], as Agola writes it', () => {
    const config = parseConfigSync(`
runs:
  - name: ci
    tasks:
      - { name: a, runtime: { containers: [{ image: x }] } }
      - { name: b, runtime: { containers: [{ image: x }] }, depends: [a] }
      - { name: c, runtime: { containers: [{ image: x }] }, depends: [{ a: [] }] }
      - { name: d, runtime: { containers: [{ image: x }] }, depends: [{ task: c }, { b: [on_failure] }] }
`);
    let n = 0;
    const { runs } = planRuns({
      config,
      context: contextOfRef('refs/heads/main', 'abc')!,
      newId: () => `t${++n}`,
    });
    const tasks = runs[0]!.tasks;
    expect(tasks['t2']!.depends).toEqual({ t1: { task_id: 't1', conditions: ['on_success'] } });
    expect(tasks['t3']!.depends).toEqual({ t1: { task_id: 't1', conditions: ['on_success'] } });
    expect(tasks['t4']!.depends).toEqual({
      t3: { task_id: 't3', conditions: ['on_success'] },
      t2: { task_id: 't2', conditions: ['on_failure'] },
    });
    // The parsed config keeps what was written.
    expect(config.runs[0]!.tasks[1]!.depends).toEqual([{ task: 'a', conditions: [] }]);
  });

  test('setup errors carry file:line:column', async () => {
    const { runs } = await planRunsFromFile({
      data: '{"runs": [{"name": "r", "tasks": [{"name": "t", "steps": [], "runtim": {}}]}]}',
      path: '.agola/config.json',
      context: contextOfRef('refs/heads/main', 'abc')!,
    });
    expect(runs[0]!.setup_errors).toEqual([
      '.agola/config.json:1:62: runs[0].tasks[0].runtim: unknown key "runtim" (did you mean "runtime"?)',
      '.agola/config.json:1:35: runs[0].tasks[0].runtime: runtime is required',
    ]);
  });
});
