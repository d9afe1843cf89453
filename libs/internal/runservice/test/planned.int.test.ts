import { describe, expect, it } from 'vitest';
import { contextOfRef, parseConfigSync, planRuns, setupErrorRun } from '@agola-ts/runconfig';
import { plannedRunToCreateRequest } from '@agola-ts/runservice-client';
import { startExecutor, startFresh, waitRun } from './helpers.js';

const CONFIG = `
version: v0
runs:
  - name: ci
    tasks:
      - name: build
        runtime:
          containers:
            - image: busybox
        steps:
          - run: echo build
          - save_to_workspace:
              contents:
                - source_dir: .
                  dest_dir: .
                  paths: ['**']
      - name: test
        runtime:
          containers:
            - image: busybox
        environment:
          MODE: test
        steps:
          - restore_workspace:
              dest_dir: .
          - run: echo test
        depends:
          - build
  - name: tags-only
    when:
      tag: '#v.*#'
    tasks:
      - name: release
        runtime:
          containers:
            - image: busybox
        steps:
          - run: echo release
`;

describe('runs planned from a run config file', () => {
  it('a planned run goes through POST /runs to success; a setup error run never runs', async () => {
    const { client } = await startFresh();
    const ex = await startExecutor({ id: 'ex1', client });
    const context = contextOfRef('refs/heads/main', 'abc123')!;
    const { runs, skippedRuns } = planRuns({
      config: parseConfigSync(CONFIG),
      context,
      staticEnvironment: { AGOLA_GIT_BRANCH: 'main' },
    });
    expect(skippedRuns).toEqual(['tags-only']);
    const req = plannedRunToCreateRequest(runs[0]!, {
      group: '/project/p1/branch/main',
      environment: { TOKEN: 'v' },
      annotations: { commit_sha: 'abc123' },
    });
    const { run, run_config } = await client.createRun(req);
    expect(run.phase).toBe('queued');
    expect(run.annotations).toEqual({ commit_sha: 'abc123' });
    expect(
      Object.values(run_config.tasks)
        .map((t) => [t.name, t.level])
        .sort(),
    ).toEqual([
      ['build', 0],
      ['test', 1],
    ]);
    await client.startRun(run.id);
    const done = await waitRun(client, run.id, 'finished', 'success');
    expect(Object.values(done.tasks).map((t) => t.status)).toEqual(['success', 'success']);
    const test = [...ex.tasks.values()].find((t) => t.spec.task_name === 'test')!;
    expect(test.spec.environment).toMatchObject({
      MODE: 'test',
      AGOLA_GIT_BRANCH: 'main',
      TOKEN: 'v',
    });
    expect(test.spec.workspace_operations).toHaveLength(1);

    const bad = setupErrorRun(new Error('config is broken'));
    const created = await client.createRun(
      plannedRunToCreateRequest(bad, { group: '/project/p1/branch/main' }),
    );
    expect(created.run.phase).toBe('setuperror');
    expect(created.run_config.setup_errors).toEqual(['config is broken']);
  });
});
