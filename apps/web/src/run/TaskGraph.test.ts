import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import TaskGraph from './TaskGraph.vue';
import type { GraphTaskInput } from './graph-layout.js';

function t(
  id: string,
  level: number,
  parents: string[],
  status: string,
  extra: Partial<GraphTaskInput> = {},
) {
  return {
    id,
    name: id === 'long' ? 'a-very-long-task-name-that-does-not-fit-in-its-box' : `task ${id}`,
    level,
    status,
    depends: Object.fromEntries(parents.map((p) => [p, { task_id: p }])),
    ...extra,
  };
}

const tasks: Record<string, GraphTaskInput> = {
  a: t('a', 0, [], 'success', {
    start_time: '2026-12-01T10:00:00Z',
    end_time: '2026-12-01T10:00:12Z',
  }),
  b: t('b', 1, ['a'], 'failed'),
  c: t('c', 1, ['a'], 'notstarted', { waiting_approval: true }),
  long: t('long', 2, ['b', 'c'], 'notstarted'),
};

describe('TaskGraph', () => {
  it('draws a box per task and a path per dependency, with status and approval marks', () => {
    const w = mount(TaskGraph, { props: { tasks } });
    const nodes = w.findAll('g.task-node');
    expect(nodes.map((n) => [n.attributes('data-task-id'), n.attributes('data-status')])).toEqual([
      ['a', 'success'],
      ['b', 'failed'],
      ['c', 'waitingapproval'],
      ['long', 'notstarted'],
    ]);
    expect(w.findAll('path.edge')).toHaveLength(4);
    const c = w.find('g[data-task-id="c"]');
    expect(c.find('text.status').text()).toBe('waiting approval');
    // a task that ran shows its duration
    expect(w.find('g[data-task-id="a"] text.status').text()).toBe('success · 12s');
    expect(c.find('rect').attributes('stroke-dasharray')).toBe('5 3');
    // names that do not fit are cut, the full one is in the tooltip
    const long = w.find('g[data-task-id="long"]');
    expect(long.find('text.name').text().endsWith('…')).toBe(true);
    expect(long.find('title').text()).toContain(
      'a-very-long-task-name-that-does-not-fit-in-its-box',
    );
    const svg = w.find('svg');
    expect(Number(svg.attributes('width'))).toBeGreaterThan(3 * 180);
  });

  it('emits select on click and on Enter', async () => {
    const w = mount(TaskGraph, { props: { tasks } });
    await w.find('g[data-task-id="b"]').trigger('click');
    await w.find('g[data-task-id="c"]').trigger('keydown', { key: 'Enter' });
    await w.find('g[data-task-id="a"]').trigger('keydown', { key: 'x' });
    expect(w.emitted('select')).toEqual([['b'], ['c']]);
  });

  it('redraws when a task changes status', async () => {
    const w = mount(TaskGraph, { props: { tasks } });
    await w.setProps({
      tasks: { ...tasks, c: { ...tasks['c']!, waiting_approval: false, status: 'running' } },
    });
    expect(w.find('g[data-task-id="c"]').attributes('data-status')).toBe('running');
  });
});
