import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  RunconfigErrorCodes,
  contextOfRef,
  createJsonnetExecutableEvaluator,
  parseConfig,
  type JsonnetEvaluator,
} from '../src/index.js';

const read = (name: string): string =>
  readFileSync(join(import.meta.dirname, 'fixtures', 'jsonnet', name), 'utf8');

describe('jsonnet configs (Debian jsonnet executable)', () => {
  test('ctx carries the ref of a branch push', async () => {
    const config = await parseConfig(read('ctx.jsonnet'), {
      path: '.agola/config.jsonnet',
      context: contextOfRef('refs/heads/main', 'abc')!,
    });
    expect(config.runs.map((r) => r.name)).toEqual(['ci-branch']);
    expect(config.runs[0]!.tasks.map((t) => t.name)).toEqual(['show']);
    expect(config.runs[0]!.tasks[0]!.environment).toEqual({
      REF: { type: 'string', value: 'refs/heads/main' },
      BRANCH: { type: 'string', value: 'main' },
      TAG: { type: 'string', value: '' },
      PR: { type: 'string', value: '' },
      SHA: { type: 'string', value: 'abc' },
    });
  });

  test('ctx of a pull request', async () => {
    const config = await parseConfig(read('ctx.jsonnet'), {
      path: 'config.jsonnet',
      context: contextOfRef('refs/pull/5/head', 'def')!,
    });
    expect(config.runs[0]!.name).toBe('ci-pull_request');
    expect(config.runs[0]!.tasks[0]!.environment['PR']).toEqual({ type: 'string', value: '5' });
  });

  test('a plain object config ignores ctx', async () => {
    const config = await parseConfig(read('plain-object.jsonnet'), { path: 'config.jsonnet' });
    expect(config.runs[0]!.name).toBe('plain');
  });

  test('a runtime error is reported with the file name and the message', async () => {
    await expect(
      parseConfig(read('runtime-error.jsonnet'), {
        path: '.agola/config.jsonnet',
        context: contextOfRef('refs/heads/x')!,
      }),
    ).rejects.toMatchObject({
      code: RunconfigErrorCodes.Jsonnet,
      message: expect.stringMatching(
        /^failed to evaluate jsonnet config \.agola\/config\.jsonnet: .*branches are not built here.*\.agola\/config\.jsonnet:1/,
      ),
    });
  });

  test('a syntax error is a jsonnet error', async () => {
    await expect(
      parseConfig(read('syntax-error.jsonnet'), { path: 'c.jsonnet' }),
    ).rejects.toMatchObject({
      code: RunconfigErrorCodes.Jsonnet,
    });
  });

  test('the generated config is validated like any other', async () => {
    await expect(
      parseConfig(read('invalid-config.jsonnet'), {
        path: 'c.jsonnet',
        context: contextOfRef('refs/heads/dev')!,
      }),
    ).rejects.toMatchObject({
      code: RunconfigErrorCodes.Invalid,
      issues: [{ path: 'runs[0].tasks[0].runtime', message: 'runtime is required' }],
    });
  });

  test('more than 1 MiB of generated JSON is refused', async () => {
    const program = `{ runs: [{ name: 'r', tasks: [{ name: 't', runtime: { containers: [{ image: std.repeat('a', 1100000) }] } }] }] }`;
    await expect(parseConfig(program, { path: 'c.jsonnet' })).rejects.toMatchObject({
      code: RunconfigErrorCodes.TooLarge,
    });
  });

  test('a missing interpreter is reported as unavailable', async () => {
    const evaluate = createJsonnetExecutableEvaluator({ executable: '/nonexistent/jsonnet' });
    await expect(parseConfig('{}', { path: 'c.jsonnet', jsonnet: evaluate })).rejects.toMatchObject(
      {
        code: RunconfigErrorCodes.JsonnetUnavailable,
      },
    );
  });

  test('another evaluator can be plugged in and receives ctx', async () => {
    let seen: unknown;
    const evaluate: JsonnetEvaluator = async (_source, ctx) => {
      seen = ctx;
      return JSON.stringify({
        runs: [
          { name: ctx.tag, tasks: [{ name: 't', runtime: { containers: [{ image: 'a' }] } }] },
        ],
      });
    };
    const ctx = contextOfRef('refs/tags/v9', 'sha')!;
    const config = await parseConfig('ignored', {
      path: 'c.jsonnet',
      context: ctx,
      jsonnet: evaluate,
    });
    expect(seen).toEqual(ctx);
    expect(config.runs[0]!.name).toBe('v9');
  });
});
