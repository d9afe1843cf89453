// Proves the architecture's dependency rules are enforced: lints fixture projects with the
// workspace's real eslint.config.mjs and asserts what @nx/enforce-module-boundaries reports.
import { join, resolve } from 'node:path';
import { createProjectGraphAsync } from '@nx/devkit';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const fixtures = join(root, 'tools/checks/fixtures');
const RULE = '@nx/enforce-module-boundaries';

let eslint: ESLint;

beforeAll(async () => {
  // The rule reads nx's cached project graph and silently skips itself when there is none:
  // compute (and cache) it first, and check the fixtures are in it.
  const graph = await createProjectGraphAsync({ exitOnError: false });
  expect(Object.keys(graph.nodes)).toEqual(
    expect.arrayContaining([
      'fixture-public-lib',
      'fixture-internal-lib',
      'fixture-gateway-client',
    ]),
  );
  eslint = new ESLint({ cwd: root, ignore: false });
});

async function boundaryMessages(file: string): Promise<string[]> {
  const [result] = await eslint.lintFiles([join(fixtures, file)]);
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('module boundaries', () => {
  test('a public lib importing an internal lib is reported', async () => {
    expect(await boundaryMessages('public-lib/src/imports-internal.ts')).toEqual([
      'A project tagged with "scope:public" can only depend on libs tagged with "scope:public"',
    ]);
  });

  test('the gateway client importing the shared types is reported', async () => {
    expect(await boundaryMessages('gateway-client/src/imports-types.ts')).toEqual([
      'A project tagged with "lib:gateway-client" can only depend on libs tagged with "lib:errors", "lib:api-client"',
    ]);
  });

  test('production code importing the test kit is reported', async () => {
    const messages = await boundaryMessages('public-lib/src/imports-testkit.ts');
    expect(messages).toEqual([
      'A project tagged with "scope:public" can only depend on libs tagged with "scope:public"',
    ]);
  });

  test('allowed imports are not reported', async () => {
    expect(await boundaryMessages('public-lib/src/imports-public.ts')).toEqual([]);
    expect(await boundaryMessages('gateway-client/src/imports-errors.ts')).toEqual([]);
    expect(await boundaryMessages('gateway-client/src/imports-api-client.ts')).toEqual([]);
    expect(await boundaryMessages('public-lib/src/uses-testkit.test.ts')).toEqual([]);
  });
});
