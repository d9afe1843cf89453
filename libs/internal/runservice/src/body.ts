import { invalid } from './errors.js';

/** Longest string accepted in a request field. */
const MAX_STRING = 64 * 1024;

/** A JSON request body as an object, or a 400. */
export function objectBody(body: unknown, what = 'request body'): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** An optional string field: absent (or null) gives undefined, another type a 400. */
export function optString(o: Record<string, unknown>, field: string): string | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${field} must be a string`);
  if (v.length > MAX_STRING) throw invalid(`${field} is too long`);
  return v;
}

/** An optional boolean field. */
export function optBool(o: Record<string, unknown>, field: string): boolean | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${field} must be a boolean`);
  return v;
}

/** An optional list of strings. */
export function optStringList(o: Record<string, unknown>, field: string): string[] | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length > MAX_STRING)) {
    throw invalid(`${field} must be a list of strings`);
  }
  return v as string[];
}

/** An optional map of strings (e.g. an environment), built without prototype surprises. */
export function optStringMap(
  o: Record<string, unknown>,
  field: string,
): Record<string, string> | undefined {
  const v = Object.hasOwn(o, field) ? o[field] : undefined;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${field} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'string' || x.length > MAX_STRING) {
      throw invalid(`${field}.${k.slice(0, 60)} must be a string`);
    }
    Object.defineProperty(out, k, {
      value: x,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const STEP_TYPES = new Set([
  'run',
  'save_to_workspace',
  'restore_workspace',
  'save_cache',
  'restore_cache',
]);
const CONDITIONS = new Set(['on_success', 'on_failure', 'on_skipped']);
/** The most tasks a run may have, and steps a task may have. */
const MAX_TASKS = 1000;
const MAX_STEPS = 1000;

/**
 * Checks the shape of `run_config_tasks` (objects where objects are expected, strings where
 * strings are, known step types and depend conditions), so the run logic sees well-formed
 * tasks; graph rules (cycles, levels) are the logic's and become setup errors.
 */
export function checkTasksShape(tasks: unknown): void {
  if (tasks === undefined || tasks === null) return;
  if (!isObject(tasks)) throw invalid('run_config_tasks must be an object');
  const entries = Object.entries(tasks);
  if (entries.length > MAX_TASKS) throw invalid(`a run has at most ${MAX_TASKS} tasks`);
  for (const [key, t] of entries) {
    const where = `run_config_tasks.${key.slice(0, 60)}`;
    if (!isObject(t)) throw invalid(`${where} must be an object`);
    if (typeof t['id'] !== 'string' || t['id'] === '')
      throw invalid(`${where}.id must be a string`);
    if (t['name'] !== undefined && typeof t['name'] !== 'string') {
      throw invalid(`${where}.name must be a string`);
    }
    if (t['level'] !== undefined && typeof t['level'] !== 'number') {
      throw invalid(`${where}.level must be a number`);
    }
    for (const f of ['working_dir', 'shell', 'user']) {
      if (t[f] !== undefined && t[f] !== null && typeof t[f] !== 'string') {
        throw invalid(`${where}.${f} must be a string`);
      }
    }
    for (const f of ['ignore_failure', 'needs_approval', 'skip']) {
      if (t[f] !== undefined && t[f] !== null && typeof t[f] !== 'boolean') {
        throw invalid(`${where}.${f} must be a boolean`);
      }
    }
    optStringMap(t, 'environment');
    const depends = t['depends'];
    if (depends !== undefined && depends !== null) {
      if (!isObject(depends)) throw invalid(`${where}.depends must be an object`);
      for (const [pk, d] of Object.entries(depends)) {
        if (!isObject(d) || typeof d['task_id'] !== 'string') {
          throw invalid(`${where}.depends.${pk.slice(0, 60)} must have a task_id`);
        }
        const c = d['conditions'];
        if (c !== undefined && c !== null) {
          if (!Array.isArray(c) || c.some((x) => typeof x !== 'string' || !CONDITIONS.has(x))) {
            throw invalid(`${where}.depends.${pk.slice(0, 60)}.conditions are invalid`);
          }
        }
      }
    } else {
      t['depends'] = {};
    }
    const steps = t['steps'];
    if (steps !== undefined && steps !== null) {
      if (!Array.isArray(steps) || steps.length > MAX_STEPS) {
        throw invalid(`${where}.steps must be a list`);
      }
      steps.forEach((s: unknown, i) => {
        if (!isObject(s) || typeof s['type'] !== 'string' || !STEP_TYPES.has(s['type'])) {
          throw invalid(`${where}.steps[${i}] must be an object with a known type`);
        }
      });
    }
    const runtime = t['runtime'];
    if (runtime !== undefined && runtime !== null) {
      if (!isObject(runtime)) throw invalid(`${where}.runtime must be an object`);
      const containers = runtime['containers'];
      if (containers !== undefined && containers !== null) {
        if (!Array.isArray(containers) || containers.some((c) => !isObject(c))) {
          throw invalid(`${where}.runtime.containers must be a list of objects`);
        }
      }
    }
  }
}
