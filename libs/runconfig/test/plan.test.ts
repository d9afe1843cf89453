import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  CLONE_STEP_NAME,
  SETUP_ERROR_RUN_NAME,
  contextOfRef,
  parseConfigSync,
  planRuns,
  planRunsFromFile,
  staticEnvironment,
  type PlanResult,
} from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'plan');
const update = process.env['UPDATE_GOLDEN'] === '1';

interface PlanInput {
  /** Config file in fixtures/plan (default: `<case>.*`). */
  config?: string;
  /** Path the config is parsed as (default: `config`); lets unparsable YAML hide from prettier. */
  path?: string;
  ref: string;
  commitSha: string;
  commitMessage: string;
  variables?: Record<string, string>;
  repositoryUrl: string;
  sshPrivateKey?: string;
  sshHostKey?: string;
  skipSshHostKeyCheck?: boolean;
}

function counter(): () => string {
  let n = 0;
  return () => `task-${String(++n).padStart(2, '0')}`;
}

async function plan(name: string): Promise<PlanResult> {
  const input = JSON.parse(readFileSync(join(dir, `${name}.input.json`), 'utf8')) as PlanInput;
  const configFile =
    input.config ??
    readdirSync(dir).find((f) => f.startsWith(`${name}.`) && !f.endsWith('.json')) ??
    '';
  const context = contextOfRef(input.ref, input.commitSha);
  if (!context) throw new Error(`bad ref ${input.ref}`);
  return planRunsFromFile({
    data: readFileSync(join(dir, configFile)),
    path: input.path ?? configFile,
    context,
    variables: input.variables ?? {},
    commitMessage: input.commitMessage,
    staticEnvironment: staticEnvironment({
      context,
      repositoryUrl: input.repositoryUrl,
      ...(input.sshPrivateKey ? { sshPrivateKey: input.sshPrivateKey } : {}),
      ...(input.sshHostKey ? { sshHostKey: input.sshHostKey } : {}),
      ...(input.skipSshHostKeyCheck ? { skipSshHostKeyCheck: true } : {}),
    }),
    newId: counter(),
  });
}

const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.slice(0, -'.input.json'.length))
  .sort();

describe('planning golden outputs', () => {
  test.each(cases)('%s', async (name) => {
    const result = await plan(name);
    const goldenPath = join(dir, `${name}.golden.json`);
    // Compared as data: the golden files are formatted by prettier with the rest of the repo.
    if (update) writeFileSync(goldenPath, `${JSON.stringify(result, null, 2)}\n`);
    expect(existsSync(goldenPath), `missing ${goldenPath}: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(JSON.parse(JSON.stringify(result))).toEqual(
      JSON.parse(readFileSync(goldenPath, 'utf8')),
    );
  });
});

describe('planning behaviour', () => {
  test('a tag push creates the release run only, with levels, depends, approval and resolved values', async () => {
    const { runs, skippedRuns, ciSkip } = await plan('release');
    expect(ciSkip).toBe(false);
    expect(skippedRuns).toEqual(['pr-only']);
    expect(runs.map((r) => r.name)).toEqual(['release']);
    const tasks = Object.values(runs[0]!.tasks);
    expect(tasks.map((t) => [t.name, t.level, t.skip, t.needs_approval])).toEqual([
      ['checkout', 0, false, false],
      ['test', 1, false, false],
      ['publish', 2, false, true],
    ]);
    const [checkout, testTask, publish] = tasks;
    expect(publish!.depends).toEqual({
      'task-02': { task_id: 'task-02', conditions: ['on_success', 'on_failure'] },
    });
    expect(checkout!.runtime.containers[0]!.environment).toEqual({
      NPM_TOKEN: 'npm-secret',
      MISSING: '',
    });
    expect(checkout!.runtime.containers[0]!.volumes).toEqual([
      { path: '/tmp', tmpfs: { size: 1073741824 } },
      { path: '/scratch', tmpfs: { size: 0 } },
    ]);
    expect(checkout!.steps[0]).toMatchObject({ type: 'run', name: CLONE_STEP_NAME });
    expect((checkout!.steps[0] as { command: string }).command).toContain(
      'git clone --depth 5 --recurse-submodules $AGOLA_REPOSITORY_URL .',
    );
    expect(testTask!.runtime.arch).toBe('arm64');
    expect(publish!.docker_registries_auth).toEqual({
      'registry.example.com': {
        type: 'basic',
        username: 'run-user',
        password: 'run-password',
        auth: '',
      },
      'ghcr.io': { type: 'basic', username: 'task-user', password: 'task-password', auth: '' },
    });
    expect(checkout!.docker_registries_auth['ghcr.io']).toEqual({
      type: 'encodedauth',
      username: '',
      password: '',
      auth: 'Z2hjcjp0b2tlbg==',
    });
    expect(runs[0]!.static_environment).toMatchObject({
      CI: 'true',
      AGOLA_GIT_HOST: 'git.example.com',
      AGOLA_GIT_PORT: '22',
      AGOLA_GIT_TAG: 'v2.0.0',
      AGOLA_GIT_REF_TYPE: 'tag',
      AGOLA_SKIPSSHHOSTKEYCHECK: '1',
    });
  });

  test('on a branch the run has no tag match: the tag-only task is skipped, nothing needs a variable', async () => {
    const { runs } = await plan('release-branch');
    const publish = Object.values(runs[0]!.tasks).find((t) => t.name === 'publish');
    expect(publish!.skip).toBe(true);
    expect(publish!.environment).toEqual({ NPM_TOKEN: '' });
    expect(runs[0]!.static_environment['AGOLA_GIT_PORT']).toBe('2222');
    expect(runs[0]!.static_environment['AGOLA_SSHHOSTKEY']).toBe(
      'git.example.com ssh-ed25519 AAAA',
    );
    expect(runs[0]!.static_environment).not.toHaveProperty('AGOLA_SKIPSSHHOSTKEYCHECK');
  });

  test('a pull request creates both runs', async () => {
    const { runs, skippedRuns } = await plan('release-pr');
    expect(runs.map((r) => r.name)).toEqual(['release', 'pr-only']);
    expect(skippedRuns).toEqual([]);
    expect(runs[0]!.static_environment['AGOLA_PULL_REQUEST_ID']).toBe('42');
  });

  test('[ci skip] anywhere in the commit message skips everything', async () => {
    expect(await plan('ci-skip')).toEqual({ runs: [], skippedRuns: [], ciSkip: true });
  });

  test('an invalid config yields one setup-error run with every issue, even with [ci skip]', async () => {
    const { runs, ciSkip } = await plan('broken');
    expect(ciSkip).toBe(false);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.name).toBe(SETUP_ERROR_RUN_NAME);
    expect(runs[0]!.tasks).toEqual({});
    // Every setup error says where: file:line:column.
    expect(runs[0]!.setup_errors).toEqual([
      'broken.yml:11:13: runs[0].tasks[1].steps[0]: command is required',
      'broken.yml:6:18: runs[0].tasks[0].depends: circular dependency between tasks "a", "b"',
    ]);
  });

  test('syntax errors and starlark configs also become setup-error runs', async () => {
    const syntax = await plan('syntax');
    expect(syntax.runs[0]!.setup_errors[0]).toMatch(/^syntax\.yml:\d+:\d+: /);
    const star = await plan('starlark');
    expect(star.runs[0]!.setup_errors).toEqual([
      'starlark.star: starlark configs are not supported; write the config as .agola/config.jsonnet, config.json or config.yml',
    ]);
  });

  test('the run level `when` of a jsonnet config sees ctx: a tag adds the release task', async () => {
    const { runs } = await plan('jsonnet-tag');
    expect(runs.map((r) => r.name)).toEqual(['ci-tag']);
    const tasks = Object.values(runs[0]!.tasks);
    expect(tasks.map((t) => [t.name, t.level])).toEqual([
      ['show', 0],
      ['release', 1],
    ]);
    expect(tasks[0]!.environment).toEqual({
      REF: 'refs/tags/v1.2.3',
      BRANCH: '',
      TAG: 'v1.2.3',
      PR: '',
      SHA: '1111111111111111111111111111111111111111',
    });
  });

  test('task ids default to random UUIDs, unique per task', () => {
    const config = parseConfigSync(readFileSync(join(dir, 'release.yml')), { path: 'release.yml' });
    const context = contextOfRef('refs/tags/v1', 'abc')!;
    const ids = Object.keys(planRuns({ config, context }).runs[0]!.tasks);
    expect(ids).toHaveLength(3);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
