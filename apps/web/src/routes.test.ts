import { describe, expect, it } from 'vitest';
import { createMemoryHistory, createRouter, type RouteRecordRaw } from 'vue-router';
import { projectGroupLink, projectLink, runLink, runParamsOf, taskLink } from './routes.js';
import { routes } from './router.js';

// the pages themselves are not loaded: only which route a link names matters here
const stub = { render: () => null };
const stubbed = routes.map((r) =>
  'component' in r ? { ...r, component: stub } : r,
) as RouteRecordRaw[];

function router() {
  return createRouter({ history: createMemoryHistory(), routes: stubbed });
}

describe('page links and the routes they name', () => {
  it('a project link in a sub group resolves to the project page with its path', async () => {
    const r = router();
    const link = projectLink('org/acme/infra/web app');
    expect(link).toBe('/org/acme/projects/infra/web%20app.proj');
    await r.push(link);
    expect(r.currentRoute.value.name).toBe('project');
    expect(r.currentRoute.value.params['path']).toBe('infra/web app');
  });

  it('run and task links give the run owner, number and task back', async () => {
    const r = router();
    const owner = { kind: 'project' as const, ref: 'org/acme/g/p1' };
    await r.push(taskLink(owner, 12, 'task-1'));
    expect(r.currentRoute.value.name).toBe('project-run-task');
    expect(runParamsOf(r.currentRoute.value)).toEqual({ owner, runNumber: 12, taskId: 'task-1' });
    await r.push(runLink(owner, 3));
    expect(r.currentRoute.value.name).toBe('project-run');
    expect(runParamsOf(r.currentRoute.value)).toEqual({ owner, runNumber: 3, taskId: undefined });
  });

  it("a user's direct run names the user as run owner", async () => {
    const r = router();
    await r.push(runLink({ kind: 'user', ref: 'alice' }, 7));
    expect(r.currentRoute.value.name).toBe('user-run');
    expect(runParamsOf(r.currentRoute.value).owner).toEqual({ kind: 'user', ref: 'alice' });
  });

  it('project groups: the root group is the owner page, others carry their path', async () => {
    const r = router();
    expect(projectGroupLink('org/acme')).toBe('/org/acme');
    await r.push(projectGroupLink('org/acme'));
    expect(r.currentRoute.value.name).toBe('owner');
    await r.push(projectGroupLink('user/bob/a/b', 'settings'));
    expect(r.currentRoute.value.name).toBe('project-group-settings');
    expect(r.currentRoute.value.params['path']).toBe('a/b');
  });

  it('an unknown path is the not-found page, not a blank one', async () => {
    const r = router();
    await r.push('/nothing/here/at/all');
    expect(r.currentRoute.value.name).toBe('not-found');
  });
});
