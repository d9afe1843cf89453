import type { SaveContent, Step, StepType } from '../types.js';
import type { PathSegment } from '../path.js';
import { decodeEnvironment } from './value.js';
import { isMap, kindOf, nearestKey, type DocMap, type Reader } from './reader.js';

/** The fields of each step type, besides `type`, `name` and `when` (parsed, ignored). */
const STEP_FIELDS: Record<StepType, readonly string[]> = {
  clone: ['depth', 'recurse_submodules'],
  run: ['command', 'environment', 'working_dir', 'shell', 'tty'],
  save_to_workspace: ['contents'],
  restore_workspace: ['dest_dir'],
  save_cache: ['key', 'contents'],
  restore_cache: ['keys', 'dest_dir'],
};

/** Longest step name derived from a command. */
export const MAX_STEP_NAME_LENGTH = 100;

const STEP_TYPES: readonly StepType[] = [
  'clone',
  'run',
  'save_to_workspace',
  'restore_workspace',
  'save_cache',
  'restore_cache',
];

/** Number of lines of a command, counting a last line without a newline. */
function countLines(text: string): number {
  if (text === '') return 0;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.split('\n').length;
}

function contents(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
  defaultPaths: string[],
): SaveContent[] {
  const out: SaveContent[] = [];
  (r.list(raw, path) ?? []).forEach((entry, i) => {
    const p = [...path, i];
    const map = r.map(entry, p);
    if (!map) return;
    r.knownKeys(map, p, ['source_dir', 'dest_dir', 'paths']);
    const paths = r.strings(map['paths'], [...p, 'paths']);
    out.push({
      source_dir: r.string(map['source_dir'], [...p, 'source_dir']) ?? '',
      dest_dir: r.string(map['dest_dir'], [...p, 'dest_dir']) ?? '',
      paths: paths.length > 0 ? paths : [...defaultPaths],
    });
  });
  return out;
}

function withName<T extends object>(step: T, name: string | undefined): T & { name?: string } {
  return name ? { ...step, name } : step;
}

/** Decodes the fields of a step whose type is known. */
function decodeTyped(
  r: Reader,
  type: StepType,
  spec: DocMap,
  path: readonly PathSegment[],
  stepPath: readonly PathSegment[],
): Step | undefined {
  const name = r.string(spec['name'], [...path, 'name']);
  switch (type) {
    case 'clone': {
      const step: Step = {
        type,
        recurse_submodules: r.bool(spec['recurse_submodules'], [...path, 'recurse_submodules']),
      };
      const depth = spec['depth'];
      if (depth !== undefined && depth !== null) {
        if (typeof depth === 'number' && Number.isInteger(depth) && depth >= 1) step.depth = depth;
        else
          r.fail([...path, 'depth'], `depth must be an integer >= 1, got ${JSON.stringify(depth)}`);
      }
      return withName(step, name);
    }
    case 'run': {
      const command = r.string(spec['command'], [...path, 'command']) ?? '';
      if (command === '') r.fail(stepPath, 'command is required');
      let stepName = name ?? '';
      if (stepName === '' && command !== '') {
        if (countLines(command) > 1) {
          r.fail(stepPath, 'name is required when the command has more than one line');
        } else {
          stepName = [...command].slice(0, MAX_STEP_NAME_LENGTH).join('');
        }
      }
      const step: Step = {
        type,
        name: stepName,
        command,
        environment: decodeEnvironment(r, spec['environment'], [...path, 'environment']),
        tty:
          spec['tty'] === undefined || spec['tty'] === null
            ? true
            : r.bool(spec['tty'], [...path, 'tty']),
      };
      const workingDir = r.string(spec['working_dir'], [...path, 'working_dir']);
      if (workingDir) step.working_dir = workingDir;
      const shell = r.string(spec['shell'], [...path, 'shell']);
      if (shell) step.shell = shell;
      return step;
    }
    case 'save_to_workspace':
      return withName(
        { type, contents: contents(r, spec['contents'], [...path, 'contents'], []) },
        name,
      );
    case 'restore_workspace':
      return withName(
        { type, dest_dir: r.string(spec['dest_dir'], [...path, 'dest_dir']) ?? '' },
        name,
      );
    case 'save_cache': {
      const key = r.string(spec['key'], [...path, 'key']) ?? '';
      if (key === '') r.fail(stepPath, 'key is required');
      return withName(
        { type, key, contents: contents(r, spec['contents'], [...path, 'contents'], ['**']) },
        name,
      );
    }
    case 'restore_cache': {
      const keys = r.strings(spec['keys'], [...path, 'keys']);
      if (keys.length === 0) r.fail(stepPath, 'at least one key is required');
      keys.forEach((k, i) => {
        if (k === '') r.fail([...path, 'keys', i], 'key must not be empty');
      });
      return withName(
        { type, keys, dest_dir: r.string(spec['dest_dir'], [...path, 'dest_dir']) ?? '' },
        name,
      );
    }
  }
}

function knownType(r: Reader, type: string, path: readonly PathSegment[]): type is StepType {
  if ((STEP_TYPES as readonly string[]).includes(type)) return true;
  const near = nearestKey(type, STEP_TYPES);
  r.fail(
    path,
    near === undefined
      ? `unknown step type ${JSON.stringify(type)} (expected one of ${STEP_TYPES.join(', ')})`
      : `unknown step type ${JSON.stringify(type)} (did you mean ${JSON.stringify(near)}?)`,
  );
  return false;
}

/**
 * Decodes one step entry: `{type: X, ...fields}`, or the short form `{X: {...fields}}`
 * (`{clone: null}` is fine), or `{run: "command"}`.
 */
export function decodeStep(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): Step | undefined {
  if (!isMap(raw)) {
    r.fail(path, `expected a map, got ${kindOf(raw)}`);
    return undefined;
  }
  if ('type' in raw && raw['type'] !== null) {
    const type = raw['type'];
    if (typeof type !== 'string') {
      r.fail([...path, 'type'], `expected a string, got ${kindOf(type)}`);
      return undefined;
    }
    if (!knownType(r, type, [...path, 'type'])) return undefined;
    r.knownKeys(raw, path, ['type', 'name', 'when', ...STEP_FIELDS[type]]);
    return decodeTyped(r, type, raw, path, path);
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    r.fail(
      path,
      keys.length === 0
        ? 'empty step (expected {type: ...} or {<type>: {...}})'
        : `more than one step type in one entry (${keys.join(', ')})`,
    );
    return undefined;
  }
  const type = keys[0] as string;
  if (!knownType(r, type, path)) return undefined;
  const spec = raw[type];
  const specPath = [...path, type];
  if (type === 'run' && typeof spec === 'string')
    return decodeTyped(r, 'run', { command: spec }, specPath, path);
  if (spec === undefined || spec === null) return decodeTyped(r, type, {}, specPath, path);
  if (!isMap(spec)) {
    r.fail(
      specPath,
      `expected a map${type === 'run' ? ' or a command string' : ''}, got ${kindOf(spec)}`,
    );
    return undefined;
  }
  r.knownKeys(spec, specPath, ['name', 'when', ...STEP_FIELDS[type]]);
  return decodeTyped(r, type, spec, specPath, path);
}
