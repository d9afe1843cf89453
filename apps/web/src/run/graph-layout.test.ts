import { describe, expect, it } from 'vitest';
import {
  layoutRunGraph,
  statusColours,
  taskDisplayStatus,
  type GraphLayout,
  type GraphTaskInput,
} from './graph-layout.js';

/** A task as the gateway sends it: depends keyed by parent id. */
function task(
  id: string,
  level: number,
  parents: string[] = [],
  status = 'notstarted',
): GraphTaskInput {
  const depends: Record<string, unknown> = {};
  for (const p of parents) depends[p] = { task_id: p, conditions: null };
  return { id, name: `task-${id}`, level, status, depends };
}

function node(g: GraphLayout, id: string) {
  const n = g.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
}

/** No two boxes overlap. */
function expectNoOverlap(g: GraphLayout): void {
  for (let i = 0; i < g.nodes.length; i++) {
    for (let j = i + 1; j < g.nodes.length; j++) {
      const a = g.nodes[i]!;
      const b = g.nodes[j]!;
      const apart =
        a.x + a.width <= b.x ||
        b.x + b.width <= a.x ||
        a.y + a.height <= b.y ||
        b.y + b.height <= a.y;
      expect(apart, `${a.id} and ${b.id} overlap`).toBe(true);
    }
  }
}

/** Every box is inside the drawing. */
function expectInside(g: GraphLayout): void {
  for (const n of g.nodes) {
    expect(n.x).toBeGreaterThanOrEqual(0);
    expect(n.y).toBeGreaterThanOrEqual(0);
    expect(n.x + n.width).toBeLessThanOrEqual(g.width);
    expect(n.y + n.height).toBeLessThanOrEqual(g.height);
  }
}

/** A seeded PRNG (mulberry32), so the random graphs are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG with Agola's levels (0 for roots, else deepest parent + 1). */
function randomDag(n: number, seed: number): GraphTaskInput[] {
  const rnd = prng(seed);
  const tasks: GraphTaskInput[] = [];
  for (let i = 0; i < n; i++) {
    const parents = new Set<string>();
    if (i > 0 && rnd() > 0.1) {
      const k = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) parents.add(`t${Math.floor(rnd() * i)}`);
    }
    const level = Math.max(-1, ...[...parents].map((p) => tasks[Number(p.slice(1))]!.level)) + 1;
    tasks.push(task(`t${i}`, level, [...parents]));
  }
  return tasks;
}

describe('layoutRunGraph', () => {
  it('lays a chain out left to right on one row, with straight edges', () => {
    const g = layoutRunGraph([task('c', 2, ['b']), task('a', 0), task('b', 1, ['a'])]);
    expect(g.nodes.map((n) => [n.id, n.level])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    expect(node(g, 'a').x).toBeLessThan(node(g, 'b').x);
    expect(node(g, 'b').x).toBeLessThan(node(g, 'c').x);
    expect(new Set(g.nodes.map((n) => n.y)).size).toBe(1);
    expect(g.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['a>b', 'b>c']);
    const ab = g.edges.find((e) => e.from === 'a')!;
    // from a's right side to b's left side, at mid height
    expect(ab.points[0]).toEqual({ x: node(g, 'a').x + 180, y: node(g, 'a').y + 18 });
    expect(ab.points.at(-1)).toEqual({ x: node(g, 'b').x, y: node(g, 'b').y + 18 });
    expect(ab.path).toMatch(/^M\d+(\.\d)? \d+(\.\d)? C/);
    expect(g.crossings).toBe(0);
    expect(g.width).toBe(16 * 2 + 3 * 180 + 2 * 64);
    expect(g.height).toBe(16 * 2 + 36);
    expectInside(g);
  });

  it('accepts the run JSON map (tasks keyed by id) and ignores unknown parents', () => {
    const g = layoutRunGraph({ x: task('x', 1, ['gone']), y: task('y', 0) });
    expect(g.edges).toEqual([]);
    // x's level is kept (it is above its only known parent: none)
    expect(node(g, 'x').level).toBe(1);
  });

  it('draws a diamond with both middle tasks in one column and no crossing', () => {
    const g = layoutRunGraph([
      task('a', 0),
      task('b', 1, ['a']),
      task('c', 1, ['a']),
      task('d', 2, ['b', 'c']),
    ]);
    expect(node(g, 'b').x).toBe(node(g, 'c').x);
    expect(node(g, 'b').y).not.toBe(node(g, 'c').y);
    // a and d are centred on the two middle tasks
    expect(node(g, 'a').y).toBe((node(g, 'b').y + node(g, 'c').y) / 2);
    expect(node(g, 'd').y).toBe(node(g, 'a').y);
    expect(g.edges).toHaveLength(4);
    expect(g.crossings).toBe(0);
    expectNoOverlap(g);
  });

  it('reorders a column to remove a crossing the name order makes', () => {
    // by name, level 1 is [x, y]; x hangs from b and y from a: the edges cross until reordered
    const tasks = [task('a', 0), task('b', 0), task('x', 1, ['b']), task('y', 1, ['a'])];
    expect(layoutRunGraph(tasks, { sweeps: 0 }).crossings).toBe(1);
    const g = layoutRunGraph(tasks);
    expect(g.crossings).toBe(0);
    expect(node(g, 'y').row).toBe(node(g, 'a').row);
    expect(node(g, 'x').row).toBe(node(g, 'b').row);
  });

  it('routes an edge that skips a level through that level, not through a box', () => {
    const g = layoutRunGraph([task('a', 0), task('b', 1, ['a']), task('c', 2, ['a', 'b'])]);
    const ac = g.edges.find((e) => e.from === 'a' && e.to === 'c')!;
    // start, in and out of level 1's column, end
    expect(ac.points).toHaveLength(4);
    const b = node(g, 'b');
    expect(ac.points[1]!.x).toBe(b.x);
    expect(ac.points[2]!.x).toBe(b.x + b.width);
    // it passes beside b, not across it
    const y = ac.points[1]!.y;
    expect(y < b.y || y > b.y + b.height).toBe(true);
    expect(ac.path).toContain(' L');
    expectNoOverlap(g);
  });

  it('stacks a wide fan in one column, centred, without overlap', () => {
    const kids = Array.from({ length: 60 }, (_, i) =>
      task(`k${String(i).padStart(2, '0')}`, 1, ['root']),
    );
    const g = layoutRunGraph([
      task('root', 0),
      ...kids,
      task(
        'sink',
        2,
        kids.map((k) => k.id),
      ),
    ]);
    expect(g.nodes).toHaveLength(62);
    expect(g.edges).toHaveLength(120);
    expect(g.crossings).toBe(0);
    expect(g.height).toBe(16 * 2 + 60 * (36 + 16) - 16);
    const ys = g.nodes.filter((n) => n.level === 1).map((n) => n.y);
    expect(new Set(ys).size).toBe(60);
    // the root sits in the middle of its children
    expect(node(g, 'root').y).toBe((Math.min(...ys) + Math.max(...ys)) / 2);
    expectNoOverlap(g);
    expectInside(g);
  });

  it('recomputes levels that contradict the dependencies', () => {
    // the child claims level 0, below its parent at 3
    const g = layoutRunGraph([task('p', 3), task('c', 0, ['p'])]);
    expect(node(g, 'p').level).toBe(0);
    expect(node(g, 'c').level).toBe(1);
    expect(g.edges[0]!.backward).toBe(false);
  });

  it('terminates on a dependency cycle (Agola refuses them) and draws it as a backward edge', () => {
    const g = layoutRunGraph([
      task('a', 0, ['b']),
      task('b', 0, ['a']),
      task('r', 0),
      task('s', 1, ['r']),
    ]);
    expect(g.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'r', 's']);
    expect(g.edges).toHaveLength(3);
    expect(g.edges.filter((e) => e.backward)).toHaveLength(2);
    expect(g.edges.find((e) => e.from === 'r')!.backward).toBe(false);
    expectNoOverlap(g);
  });

  it('lays out 200 tasks: every task once, no overlap, edges forward, fewer crossings than the name order', () => {
    const tasks = randomDag(200, 42);
    const unordered = layoutRunGraph(tasks, { sweeps: 0 });
    const g = layoutRunGraph(tasks);
    expect(g.nodes).toHaveLength(200);
    expect(new Set(g.nodes.map((n) => n.id)).size).toBe(200);
    const edgeCount = tasks.reduce((s, t) => s + Object.keys(t.depends ?? {}).length, 0);
    expect(g.edges).toHaveLength(edgeCount);
    for (const e of g.edges) {
      expect(e.backward).toBe(false);
      for (let i = 1; i < e.points.length; i++) {
        expect(e.points[i]!.x).toBeGreaterThan(e.points[i - 1]!.x);
      }
      expect(e.points[0]!.x).toBe(node(g, e.from).x + node(g, e.from).width);
      expect(e.points.at(-1)!.x).toBe(node(g, e.to).x);
    }
    for (const t of tasks) expect(node(g, t.id).level).toBe(t.level);
    expect(g.crossings).toBeLessThan(unordered.crossings);
    expectNoOverlap(g);
    expectInside(g);
  });

  it('gives the same layout for the same run (stable across polls)', () => {
    const tasks = randomDag(80, 7);
    const a = layoutRunGraph(tasks);
    const b = layoutRunGraph([...tasks].reverse());
    expect(b.nodes.map((n) => [n.id, n.x, n.y])).toEqual(a.nodes.map((n) => [n.id, n.x, n.y]));
  });

  it('colours each task by its status', () => {
    const g = layoutRunGraph([
      task('a', 0, [], 'success'),
      task('b', 1, ['a'], 'failed'),
      { ...task('c', 1, ['a']), waiting_approval: true },
      task('d', 1, ['a'], 'skipped'),
      task('e', 1, ['a'], 'cancelled'),
    ]);
    expect(node(g, 'a').status).toBe('success');
    expect(node(g, 'b').status).toBe('failed');
    expect(node(g, 'c').status).toBe('waitingapproval');
    expect(node(g, 'd').status).toBe('skipped');
    expect(node(g, 'e').status).toBe('cancelled');
    const fills = new Set(g.nodes.map((n) => n.colours.stroke));
    expect(fills.size).toBe(5);
    expect(node(g, 'c').colours).toEqual(statusColours('waitingapproval'));
  });
});

describe('taskDisplayStatus', () => {
  it('shows waiting approval only before the task starts', () => {
    expect(taskDisplayStatus({ status: 'notstarted', waiting_approval: true })).toBe(
      'waitingapproval',
    );
    expect(taskDisplayStatus({ status: 'running', waiting_approval: true })).toBe('running');
    expect(taskDisplayStatus({ status: 'notstarted' })).toBe('notstarted');
  });
  it('maps statuses it does not know to unknown', () => {
    expect(taskDisplayStatus({ status: 'constructor' })).toBe('unknown');
    expect(taskDisplayStatus({ status: 'waitingapproval' })).toBe('unknown');
    expect(statusColours('unknown').stroke).toBe('#6b7280');
  });
});
