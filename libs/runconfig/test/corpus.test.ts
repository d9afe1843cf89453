import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  RunconfigErrorCodes,
  configIssuesOf,
  formatIssue,
  parseConfig,
  parseConfigSync,
  type ConfigIssue,
} from '../src/index.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const read = (...parts: string[]): string => readFileSync(join(fixtures, ...parts), 'utf8');
const list = (dir: string, ext: string): string[] =>
  readdirSync(join(fixtures, dir))
    .filter((f) => f.endsWith(ext))
    .sort();

function issuesOf(fn: () => unknown): readonly ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    const issues = configIssuesOf(err);
    if (!issues) throw err;
    expect((err as { code?: string }).code).toBe(RunconfigErrorCodes.Invalid);
    return issues;
  }
  throw new Error('expected a validation error');
}

describe('invalid configs: every validation error with its exact message and path', () => {
  const files = list('invalid', '.yml');
  test('the corpus is complete', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });
  test.each(files)('%s', (file) => {
    const text = read('invalid', file);
    const expected = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1]);
    expect(expected.length).toBeGreaterThan(0);
    const issues = issuesOf(() => parseConfigSync(text, { path: file }));
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual(expected);
    // Each issue points into the file (1-based line and column inside the text), and its
    // text starts with file:line:column.
    const lines = text.split('\n');
    for (const issue of issues) {
      expect(issue.file).toBe(file);
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.line).toBeLessThanOrEqual(lines.length);
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.column).toBeLessThanOrEqual((lines[(issue.line ?? 1) - 1]?.length ?? 0) + 1);
      expect(formatIssue(issue)).toBe(
        `${file}:${issue.line}:${issue.column}: ${issue.path}: ${issue.message}`,
      );
    }
  });

  test('issues carry the line and column of the offending node', () => {
    const issues = issuesOf(() => parseConfigSync(read('invalid', 'step-no-command.yml')));
    expect(issues[0]).toEqual({
      file: '.agola/config.yml',
      path: 'runs[0].tasks[2].steps[1]',
      message: 'command is required',
      line: 13,
      column: 13,
    });
  });

  test('the error message lists every issue', () => {
    try {
      parseConfigSync(read('invalid', 'many-issues.yml'), { path: '.agola/config.yml' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe(
        'invalid run config: .agola/config.yml:7:9: runs[0].tasks[0].runtime: runtime is required; ' +
          '.agola/config.yml:9:13: runs[0].tasks[0].steps[0]: command is required; ' +
          '.agola/config.yml:10:5: runs[1].name: name is required',
      );
    }
  });
});

describe('valid configs', () => {
  test('the YAML, JSON and jsonnet forms of the documented example are the same config', async () => {
    const yml = parseConfigSync(read('valid', 'go-service.yml'));
    const json = parseConfigSync(read('valid', 'go-service.json'), { path: 'config.json' });
    const jsonnet = await parseConfig(read('valid', 'go-service.jsonnet'), {
      path: 'config.jsonnet',
    });
    expect(json).toEqual(yml);
    expect(jsonnet).toEqual(yml);
  });

  test('the documented example has the expected shape and defaults', () => {
    const config = parseConfigSync(read('valid', 'go-service.yml'));
    const [build, deploy] = config.runs[0]!.tasks;
    expect(config.runs[0]!.when).toEqual({
      branch: { include: [{ type: 'simple', match: 'master' }], exclude: [] },
      tag: { include: [{ type: 'regexp', match: 'v.*' }], exclude: [] },
    });
    expect(build!.working_dir).toBe('~/project');
    expect(build!.shell).toBe('/bin/sh -e');
    expect(build!.runtime).toEqual({
      type: 'pod',
      arch: 'amd64',
      containers: [
        {
          image: 'golang:1.19',
          environment: { GOFLAGS: { type: 'string', value: '-mod=readonly' } },
          privileged: false,
          volumes: [],
        },
        {
          image: 'redis:7',
          environment: {},
          privileged: false,
          volumes: [{ path: '/data', tmpfs: { size: '512Mi' } }],
        },
      ],
    });
    expect(build!.steps.map((s) => s.type)).toEqual([
      'clone',
      'restore_cache',
      'run',
      'save_cache',
      'save_to_workspace',
    ]);
    expect(build!.steps[2]).toEqual({
      type: 'run',
      name: 'make',
      command: 'make',
      environment: {},
      tty: true,
    });
    expect(build!.steps[3]).toEqual({
      type: 'save_cache',
      key: 'deps-{{ md5sum "go.sum" }}',
      contents: [{ source_dir: '/go/pkg/mod', dest_dir: '', paths: ['**'] }],
    });
    expect(deploy!.depends).toEqual([{ task: 'build', conditions: [] }]);
    expect(deploy!.approval).toBe(true);
    expect(deploy!.environment).toEqual({
      TOKEN: { type: 'from_variable', variable: 'deploytoken' },
    });
  });

  test('anchors, merge keys, YAML 1.1 booleans and dates work as in Agola', () => {
    const config = parseConfigSync(read('valid', 'anchors-and-yaml11.yml'));
    const [lint, test] = config.runs[0]!.tasks;
    expect(lint!.ignore_failure).toBe(true);
    expect(lint!.runtime.containers[0]!.image).toBe('node:20');
    expect(lint!.environment['RELEASED']).toEqual({ type: 'string', value: '2024-01-02' });
    expect(test!.ignore_failure).toBe(false);
    expect(test!.steps[0]).toMatchObject({ type: 'run', name: 'npm test', tty: false });
  });

  test('a run step name defaults to the command cut at 100 characters', () => {
    const command = `echo ${'x'.repeat(150)}`;
    const config = parseConfigSync(
      `runs: [{name: r, tasks: [{name: t, runtime: {containers: [{image: a}]}, steps: [{run: "${command}"}]}]}]`,
    );
    const step = config.runs[0]!.tasks[0]!.steps[0];
    expect(step).toMatchObject({ name: command.slice(0, 100), command });
  });
});

describe('short forms parse like their long forms', () => {
  test.each(list('short-forms', '.short.yml'))('%s', (file) => {
    const short = parseConfigSync(read('short-forms', file));
    const long = parseConfigSync(read('short-forms', file.replace('.short.', '.long.')));
    expect(short).toEqual(long);
  });

  test('depends short forms keep their conditions', () => {
    const config = parseConfigSync(read('short-forms', 'depends.short.yml'));
    expect(config.runs[0]!.tasks[3]!.depends).toEqual([
      { task: 'a', conditions: [] },
      { task: 'b', conditions: ['on_failure', 'on_skipped'] },
      { task: 'c', conditions: ['on_success'] },
    ]);
  });

  test('registry auth type defaults to basic', () => {
    const config = parseConfigSync(read('short-forms', 'values.short.yml'));
    expect(config.docker_registries_auth).toEqual({
      'index.docker.io': {
        type: 'basic',
        username: { type: 'from_variable', variable: 'dockeruser' },
        password: { type: 'from_variable', variable: 'dockerpassword' },
      },
    });
  });
});

describe('parse failures other than validation', () => {
  test('a YAML syntax error names the file, line and column', () => {
    expect(() =>
      parseConfigSync('runs:\n  - name: x\n    tasks: [\n', { path: '.agola/config.yml' }),
    ).toThrow(
      expect.objectContaining({
        code: RunconfigErrorCodes.Parse,
        message: expect.stringMatching(/^\.agola\/config\.yml:4:1: /),
      }),
    );
  });

  test('a starlark config is refused with a message naming the file', async () => {
    await expect(
      parseConfig('def main(ctx): pass', { path: '.agola/config.star' }),
    ).rejects.toMatchObject({
      code: RunconfigErrorCodes.StarlarkUnsupported,
      message: expect.stringContaining('.agola/config.star: starlark configs are not supported'),
    });
    expect(() => parseConfigSync('', { path: 'x/config.star' })).toThrow(
      /x\/config\.star: starlark/,
    );
  });

  test('an unknown extension is refused', () => {
    expect(() => parseConfigSync('runs: []', { path: 'config.toml' })).toThrow(
      expect.objectContaining({ code: RunconfigErrorCodes.UnknownFormat }),
    );
  });

  test('a config over 1 MiB is refused, one just under is parsed', () => {
    const valid = 'runs: [{name: r, tasks: [{name: t, runtime: {containers: [{image: a}]}}]}]\n';
    const under = valid + '#'.repeat(1024 * 1024 - valid.length - 1) + '\n';
    expect(Buffer.byteLength(under)).toBe(1024 * 1024);
    expect(parseConfigSync(under).runs).toHaveLength(1);
    expect(() => parseConfigSync(under + 'x')).toThrow(
      expect.objectContaining({
        code: RunconfigErrorCodes.TooLarge,
        message: expect.stringContaining('1048577 bytes'),
      }),
    );
    expect(() => parseConfigSync(Buffer.from(under + '#'))).toThrow(
      expect.objectContaining({ code: RunconfigErrorCodes.TooLarge }),
    );
  });
});
