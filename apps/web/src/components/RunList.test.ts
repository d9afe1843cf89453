import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { RunsResponse } from '@agola-ts/gateway-client';
import RunList from './RunList.vue';

const router = createRouter({
  history: createMemoryHistory(),
  routes: [{ path: '/:p(.*)*', component: { render: () => null } }],
});

const run = (n: number, over: Partial<RunsResponse> = {}): RunsResponse => ({
  number: n,
  name: 'ci',
  annotations: { branch: 'main', commit_sha: '0123456789abcdef', message: 'fix it\nmore' },
  phase: 'finished',
  result: 'success',
  tasks_waiting_approval: [],
  enqueue_time: null,
  start_time: null,
  end_time: null,
  ...over,
});

describe('RunList', () => {
  it("links a project's runs to the project run pages, with status, source and commit", () => {
    const w = mount(RunList, {
      props: {
        runs: [run(2, { phase: 'running', result: 'unknown', tasks_waiting_approval: ['t'] })],
        projectPath: 'org/acme/g/p1',
      },
      global: { plugins: [router] },
    });
    const row = w.get('[data-test=run-row]');
    expect(row.get('a').attributes('href')).toBe('/org/acme/projects/g/p1.proj/runs/2');
    expect(row.get('[data-status]').text()).toBe('waiting for approval');
    expect(row.text()).toContain('branch main');
    expect(row.text()).toContain('01234567');
    expect(row.text()).toContain('fix it');
    expect(row.text()).not.toContain('more');
  });

  it("links a user's direct runs to the user run pages", () => {
    const w = mount(RunList, {
      props: { runs: [run(3), run(1, { result: 'failed' })], directUser: 'alice' },
      global: { plugins: [router] },
    });
    const links = w.findAll('[data-test=run-row] a').map((a) => a.attributes('href'));
    expect(links).toEqual(['/user/alice/runs/3', '/user/alice/runs/1']);
    expect(w.findAll('[data-status]').map((s) => s.attributes('data-status'))).toEqual([
      'success',
      'failed',
    ]);
  });
});
