import type { Depend, DependCondition } from '../types.js';
import type { PathSegment } from '../path.js';
import { isMap, kindOf, type Reader } from './reader.js';

/** Where each decoded depend entry was in its task's list, for issue paths. */
export const dependIndex = new WeakMap<Depend, number>();

const CONDITIONS: readonly DependCondition[] = ['on_success', 'on_failure', 'on_skipped'];

function conditions(r: Reader, raw: unknown, path: readonly PathSegment[]): DependCondition[] {
  const out: DependCondition[] = [];
  r.strings(raw, path).forEach((c, i) => {
    if ((CONDITIONS as readonly string[]).includes(c)) out.push(c as DependCondition);
    else
      r.fail(
        [...path, i],
        `unknown condition ${JSON.stringify(c)} (expected one of ${CONDITIONS.join(', ')})`,
      );
  });
  return out;
}

/**
 * Decodes one `depends` entry: `"task"`, `{task: [conditions]}` or
 * `{task: "name", conditions: [...]}`.
 */
export function decodeDepend(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): Depend | undefined {
  if (typeof raw === 'string') {
    if (raw === '') r.fail(path, 'task name is required');
    return raw === '' ? undefined : { task: raw, conditions: [] };
  }
  if (!isMap(raw)) {
    r.fail(
      path,
      `expected a task name, {<task>: [conditions]} or {task, conditions}, got ${kindOf(raw)}`,
    );
    return undefined;
  }
  const entries = Object.entries(raw);
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only && Array.isArray(only[1])) {
    return { task: only[0], conditions: conditions(r, only[1], [...path, only[0]]) };
  }
  r.knownKeys(raw, path, ['task', 'conditions']);
  const task = r.string(raw['task'], [...path, 'task']);
  if (!task) {
    if (raw['task'] === undefined || raw['task'] === null || raw['task'] === '') {
      r.fail([...path, 'task'], 'task is required');
    }
    return undefined;
  }
  return { task, conditions: conditions(r, raw['conditions'], [...path, 'conditions']) };
}

/** Decodes a task's `depends` list; a duplicate parent is an issue. */
export function decodeDepends(r: Reader, raw: unknown, path: readonly PathSegment[]): Depend[] {
  const out: Depend[] = [];
  const seen = new Set<string>();
  (r.list(raw, path) ?? []).forEach((entry, i) => {
    const d = decodeDepend(r, entry, [...path, i]);
    if (!d) return;
    if (seen.has(d.task)) {
      r.fail([...path, i], `duplicate dependency on task ${JSON.stringify(d.task)}`);
      return;
    }
    seen.add(d.task);
    dependIndex.set(d, i);
    out.push(d);
  });
  return out;
}
