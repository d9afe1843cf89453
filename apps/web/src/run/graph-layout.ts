/**
 * The task graph of a run, laid out for SVG: one column per task level (Agola's `level`: 0 for
 * roots, else one more than the deepest parent), tasks in a column ordered to reduce edge
 * crossings (barycentre sweeps over a layered graph where an edge spanning several levels goes
 * through one virtual point per level it crosses), node boxes and edge paths in pixels.
 *
 * Pure TypeScript: no DOM, no Vue. The run page draws the result.
 */

/** The fields of a run task the layout reads (a gateway `RunResponseTask` fits). */
export interface GraphTaskInput {
  id: string;
  name: string;
  /** Agola's level. A level that does not fit the dependencies is corrected (see {@link layoutRunGraph}). */
  level: number;
  status: string;
  waiting_approval?: boolean;
  /** Parent task ids as keys (the values are Agola's depend conditions, unused here). */
  depends?: Record<string, unknown> | null;
  start_time?: string | null;
  end_time?: string | null;
}

/** Sizes of the drawing, in pixels. */
export interface GraphLayoutOptions {
  /** @default 180 */
  nodeWidth?: number;
  /** @default 36 */
  nodeHeight?: number;
  /** Horizontal room between two levels (where the edges curve). @default 64 */
  levelGap?: number;
  /** Vertical room between two tasks of a level. @default 16 */
  rowGap?: number;
  /** Margin around the drawing. @default 16 */
  padding?: number;
  /** Barycentre sweeps (each one down and one up); the best ordering seen is kept. @default 8 */
  sweeps?: number;
}

/** What a task shows: its status, or `waitingapproval` for a not started task waiting for approval. */
export type TaskDisplayStatus =
  | 'notstarted'
  | 'waitingapproval'
  | 'running'
  | 'success'
  | 'failed'
  | 'stopped'
  | 'skipped'
  | 'cancelled'
  | 'unknown';

/** Colours of a task box. */
export interface StatusColours {
  fill: string;
  stroke: string;
  text: string;
}

/** A placed task. */
export interface LayoutNode {
  id: string;
  name: string;
  level: number;
  /** Position in its column, from the top. */
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
  status: TaskDisplayStatus;
  colours: StatusColours;
}

/** A dependency edge from a parent task to a child task. */
export interface LayoutEdge {
  from: string;
  to: string;
  /** The SVG path (`d` attribute), from the parent's right side to the child's left side. */
  path: string;
  /** The points the path goes through (start, one per crossed level, end). */
  points: { x: number; y: number }[];
  /** The edge goes against the level order (only with inconsistent input). */
  backward: boolean;
}

/** The whole drawing. */
export interface GraphLayout {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  width: number;
  height: number;
  /** Edge crossings left by the ordering (counted between adjacent levels). */
  crossings: number;
}

const STATUS_COLOURS: ReadonlyMap<TaskDisplayStatus, StatusColours> = new Map([
  ['notstarted', { fill: '#f3f4f6', stroke: '#9ca3af', text: '#374151' }],
  ['waitingapproval', { fill: '#fef3c7', stroke: '#d97706', text: '#78350f' }],
  ['running', { fill: '#dbeafe', stroke: '#2563eb', text: '#1e3a8a' }],
  ['success', { fill: '#dcfce7', stroke: '#16a34a', text: '#14532d' }],
  ['failed', { fill: '#fee2e2', stroke: '#dc2626', text: '#7f1d1d' }],
  ['stopped', { fill: '#ffedd5', stroke: '#ea580c', text: '#7c2d12' }],
  ['skipped', { fill: '#f9fafb', stroke: '#d1d5db', text: '#6b7280' }],
  ['cancelled', { fill: '#e5e7eb', stroke: '#4b5563', text: '#374151' }],
  ['unknown', { fill: '#ffffff', stroke: '#6b7280', text: '#111827' }],
]);

const KNOWN_STATUSES: ReadonlySet<string> = new Set(STATUS_COLOURS.keys());

/**
 * What a task shows: `waitingapproval` when it waits for an approval and has not started,
 * its status when Agola knows it, else `unknown`.
 */
export function taskDisplayStatus(task: {
  status: string;
  waiting_approval?: boolean;
}): TaskDisplayStatus {
  if (task.waiting_approval && task.status === 'notstarted') return 'waitingapproval';
  if (task.status !== 'waitingapproval' && KNOWN_STATUSES.has(task.status)) {
    return task.status as TaskDisplayStatus;
  }
  return 'unknown';
}

/** The colours of a display status. */
export function statusColours(status: TaskDisplayStatus): StatusColours {
  return STATUS_COLOURS.get(status) ?? (STATUS_COLOURS.get('unknown') as StatusColours);
}

/** A human label for a display status. */
export function statusLabel(status: TaskDisplayStatus): string {
  switch (status) {
    case 'notstarted':
      return 'not started';
    case 'waitingapproval':
      return 'waiting approval';
    default:
      return status;
  }
}

/** A vertex of the layered graph: a task, or a virtual point of an edge crossing a level. */
interface Vertex {
  key: number;
  level: number;
  task: GraphTaskInput | null;
  /** Vertices on the previous / next level linked to this one. */
  up: Vertex[];
  down: Vertex[];
  pos: number;
}

/**
 * Lays out a run's tasks.
 *
 * Levels come from the tasks; when a task's level is not above all of its parents' (it never
 * happens with data from Agola, which computes levels the same way and refuses cycles), the
 * levels are recomputed from the dependencies, and the edges of a dependency cycle are drawn
 * as backward edges instead of looping. Dependencies on unknown tasks are ignored.
 *
 * @example
 * ```ts
 * const g = layoutRunGraph(Object.values(run.tasks));
 * // <svg :width="g.width" :height="g.height"> <path v-for="e in g.edges" :d="e.path"/> ...
 * ```
 */
export function layoutRunGraph(
  tasks: Iterable<GraphTaskInput> | Record<string, GraphTaskInput>,
  options: GraphLayoutOptions = {},
): GraphLayout {
  const nodeWidth = options.nodeWidth ?? 180;
  const nodeHeight = options.nodeHeight ?? 36;
  const levelGap = options.levelGap ?? 64;
  const rowGap = options.rowGap ?? 16;
  const padding = options.padding ?? 16;
  const sweeps = options.sweeps ?? 8;

  const list = isIterable(tasks) ? [...tasks] : Object.values(tasks);
  // a stable start: Agola's own order (level, then name)
  const byId = new Map<string, GraphTaskInput>();
  for (const t of list) byId.set(t.id, t);
  const parentsOf = new Map<string, string[]>();
  for (const t of byId.values()) {
    const parents = Object.keys(t.depends ?? {}).filter((p) => byId.has(p) && p !== t.id);
    parentsOf.set(t.id, parents.sort());
  }
  const levels = consistentLevels(byId, parentsOf);

  // vertices per level, tasks sorted by name
  const tasksSorted = [...byId.values()].sort(
    (a, b) =>
      (levels.get(a.id) ?? 0) - (levels.get(b.id) ?? 0) || cmp(a.name, b.name) || cmp(a.id, b.id),
  );
  const maxLevel = tasksSorted.reduce((m, t) => Math.max(m, levels.get(t.id) ?? 0), 0);
  const layers: Vertex[][] = Array.from({ length: maxLevel + 1 }, () => []);
  const vertexOf = new Map<string, Vertex>();
  let nextKey = 0;
  const addVertex = (level: number, task: GraphTaskInput | null): Vertex => {
    const layer = layers[level] as Vertex[];
    const v: Vertex = { key: nextKey++, level, task, up: [], down: [], pos: layer.length };
    layer.push(v);
    return v;
  };
  for (const t of tasksSorted) vertexOf.set(t.id, addVertex(levels.get(t.id) ?? 0, t));

  // edges, long ones split by virtual vertices; backward ones drawn but not ordered
  interface EdgeChain {
    from: string;
    to: string;
    chain: Vertex[];
    backward: boolean;
  }
  const chains: EdgeChain[] = [];
  for (const t of tasksSorted) {
    const child = vertexOf.get(t.id) as Vertex;
    for (const p of parentsOf.get(t.id) ?? []) {
      const parent = vertexOf.get(p) as Vertex;
      if (parent.level >= child.level) {
        chains.push({ from: p, to: t.id, chain: [parent, child], backward: true });
        continue;
      }
      const chain = [parent];
      for (let l = parent.level + 1; l < child.level; l++) chain.push(addVertex(l, null));
      chain.push(child);
      for (let i = 1; i < chain.length; i++) {
        const a = chain[i - 1] as Vertex;
        const b = chain[i] as Vertex;
        a.down.push(b);
        b.up.push(a);
      }
      chains.push({ from: p, to: t.id, chain, backward: false });
    }
  }

  const crossings = orderLayers(layers, sweeps);

  // coordinates: each column centred on the tallest one
  const slot = nodeHeight + rowGap;
  const tallest = layers.reduce((m, l) => Math.max(m, l.length), 0);
  const height = padding * 2 + Math.max(0, tallest * slot - rowGap);
  const width = padding * 2 + Math.max(0, layers.length * (nodeWidth + levelGap) - levelGap);
  const colX = (level: number): number => padding + level * (nodeWidth + levelGap);
  const rowY = (layer: Vertex[], pos: number): number =>
    padding + ((tallest - layer.length) * slot) / 2 + pos * slot;

  const nodes: LayoutNode[] = [];
  for (const layer of layers) {
    for (const v of layer) {
      if (!v.task) continue;
      const status = taskDisplayStatus(v.task);
      nodes.push({
        id: v.task.id,
        name: v.task.name,
        level: v.level,
        row: v.pos,
        x: colX(v.level),
        y: rowY(layer, v.pos),
        width: nodeWidth,
        height: nodeHeight,
        status,
        colours: statusColours(status),
      });
    }
  }

  const mid = (v: Vertex): number => rowY(layers[v.level] as Vertex[], v.pos) + nodeHeight / 2;
  const edges: LayoutEdge[] = chains.map(({ from, to, chain, backward }) => {
    const first = chain[0] as Vertex;
    const last = chain[chain.length - 1] as Vertex;
    if (backward) {
      const a = { x: colX(first.level) + nodeWidth, y: mid(first) };
      const b = { x: colX(last.level), y: mid(last) };
      // a loop around the top of the drawing, so it never hides behind the boxes
      const top = padding / 2;
      return {
        from,
        to,
        backward,
        points: [a, b],
        path: `M${f(a.x)} ${f(a.y)} C${f(a.x + levelGap)} ${f(top)} ${f(b.x - levelGap)} ${f(top)} ${f(b.x)} ${f(b.y)}`,
      };
    }
    // through the middle of each virtual vertex's slot: a straight run across the column
    const start = { x: colX(first.level) + nodeWidth, y: mid(first) };
    const points: { x: number; y: number }[] = [start];
    for (const v of chain.slice(1, -1)) {
      points.push({ x: colX(v.level), y: mid(v) }, { x: colX(v.level) + nodeWidth, y: mid(v) });
    }
    points.push({ x: colX(last.level), y: mid(last) });
    let path = `M${f(start.x)} ${f(start.y)}`;
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1] as { x: number; y: number };
      const b = points[i] as { x: number; y: number };
      if (i % 2 === 0) {
        path += ` L${f(b.x)} ${f(b.y)}`;
      } else {
        const dx = (b.x - a.x) / 2;
        path += ` C${f(a.x + dx)} ${f(a.y)} ${f(b.x - dx)} ${f(b.y)} ${f(b.x)} ${f(b.y)}`;
      }
    }
    return { from, to, backward, points, path };
  });

  return { nodes, edges, width, height, crossings };
}

/**
 * The levels to draw: the given ones when each task is above all its parents, else the
 * longest path from a root (a cycle's members keep their given level, or 0).
 */
function consistentLevels(
  byId: Map<string, GraphTaskInput>,
  parentsOf: Map<string, string[]>,
): Map<string, number> {
  const given = new Map<string, number>();
  for (const t of byId.values()) {
    given.set(t.id, Number.isInteger(t.level) && t.level >= 0 ? t.level : 0);
  }
  let ok = true;
  for (const [id, parents] of parentsOf) {
    const l = given.get(id) ?? 0;
    if (parents.some((p) => (given.get(p) ?? 0) >= l)) ok = false;
  }
  // huge levels would make huge drawings of empty columns: recompute them too
  const n = byId.size;
  if (ok && [...given.values()].every((l) => l < Math.max(n, 1))) return given;

  // Kahn's algorithm: each task one more than its deepest parent
  const levels = new Map<string, number>();
  const indegree = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const [id, parents] of parentsOf) {
    indegree.set(id, parents.length);
    for (const p of parents) {
      const c = children.get(p);
      if (c) c.push(id);
      else children.set(p, [id]);
    }
  }
  const queue: string[] = [];
  for (const [id, d] of indegree) {
    if (d === 0) {
      queue.push(id);
      levels.set(id, 0);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] as string;
    const l = levels.get(id) ?? 0;
    for (const c of children.get(id) ?? []) {
      levels.set(c, Math.max(levels.get(c) ?? 0, l + 1));
      const d = (indegree.get(c) ?? 0) - 1;
      indegree.set(c, d);
      if (d === 0) queue.push(c);
    }
  }
  // tasks on a cycle (or below one) were never freed: keep them after what was placed
  for (const id of byId.keys()) {
    if (!indegree.has(id) || (indegree.get(id) ?? 0) > 0) {
      levels.set(id, Math.min(given.get(id) ?? 0, n));
    }
  }
  return levels;
}

/** Barycentre sweeps; keeps the ordering with the fewest crossings. Returns that count. */
function orderLayers(layers: Vertex[][], sweeps: number): number {
  let best = layers.map((l) => [...l]);
  let bestCrossings = countAll(layers);
  for (let s = 0; s < sweeps && bestCrossings > 0; s++) {
    for (let i = 1; i < layers.length; i++) reorder(layers[i] as Vertex[], 'up');
    for (let i = layers.length - 2; i >= 0; i--) reorder(layers[i] as Vertex[], 'down');
    const c = countAll(layers);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((l) => [...l]);
    }
  }
  for (let i = 0; i < layers.length; i++) {
    const layer = best[i] as Vertex[];
    layers[i] = layer;
    layer.forEach((v, p) => (v.pos = p));
  }
  return bestCrossings;
}

/** Sorts a layer by the mean position of its neighbours on one side (no neighbour: stays). */
function reorder(layer: Vertex[], side: 'up' | 'down'): void {
  const weight = new Map<Vertex, number>();
  for (const v of layer) {
    const n = v[side];
    weight.set(v, n.length ? n.reduce((s, u) => s + u.pos, 0) / n.length : v.pos);
  }
  // stable sort; ties keep the current order
  layer.sort((a, b) => (weight.get(a) ?? 0) - (weight.get(b) ?? 0) || a.pos - b.pos);
  layer.forEach((v, p) => (v.pos = p));
}

function countAll(layers: Vertex[][]): number {
  let total = 0;
  for (let i = 1; i < layers.length; i++) total += countCrossings(layers[i - 1] as Vertex[]);
  return total;
}

/**
 * Crossings between a layer and the next one: the inversions of the lower ends when the edges
 * are sorted by upper end, counted with a Fenwick tree (E log V).
 */
function countCrossings(upper: Vertex[]): number {
  const ends: number[] = [];
  let width = 0;
  for (const u of upper) {
    const below = u.down.map((d) => d.pos).sort((a, b) => a - b);
    for (const p of below) {
      ends.push(p);
      width = Math.max(width, p + 1);
    }
  }
  const tree = new Array<number>(width + 1).fill(0);
  let crossings = 0;
  for (let i = 0; i < ends.length; i++) {
    const p = ends[i] as number;
    // edges seen so far that end strictly after p cross this one
    let notAfter = 0;
    for (let j = p + 1; j > 0; j -= j & -j) notAfter += tree[j] as number;
    crossings += i - notAfter;
    for (let j = p + 1; j <= width; j += j & -j) tree[j] = (tree[j] as number) + 1;
  }
  return crossings;
}

function isIterable<T>(x: Iterable<T> | Record<string, T>): x is Iterable<T> {
  return typeof (x as Iterable<T>)[Symbol.iterator] === 'function';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rounds to 0.1 px for short paths. */
function f(n: number): string {
  return String(Math.round(n * 10) / 10);
}
