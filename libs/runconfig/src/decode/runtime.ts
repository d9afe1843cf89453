import type { Arch, Container, Runtime, Volume } from '../types.js';
import type { PathSegment } from '../path.js';
import { parseQuantity } from '../quantity.js';
import { decodeEnvironment } from './value.js';
import type { Reader } from './reader.js';

const ARCHS: readonly Arch[] = ['386', 'amd64', 'arm', 'arm64'];

function decodeVolume(r: Reader, raw: unknown, path: readonly PathSegment[]): Volume | undefined {
  const map = r.map(raw, path);
  if (!map) return undefined;
  r.knownKeys(map, path, ['path', 'tmpfs']);
  const volumePath = r.string(map['path'], [...path, 'path']);
  if (!volumePath) r.fail([...path, 'path'], 'path is required');
  const tmpfsRaw = map['tmpfs'];
  if (tmpfsRaw === undefined || tmpfsRaw === null) {
    r.fail(path, 'volume type is required (only tmpfs volumes are supported)');
    return undefined;
  }
  const tmpfs = r.map(tmpfsRaw, [...path, 'tmpfs']);
  if (!tmpfs) return undefined;
  r.knownKeys(tmpfs, [...path, 'tmpfs'], ['size']);
  const sizeRaw = tmpfs['size'];
  let size: string | undefined;
  if (typeof sizeRaw === 'number') size = String(sizeRaw);
  else size = r.string(sizeRaw, [...path, 'tmpfs', 'size']);
  if (size !== undefined && parseQuantity(size) === undefined) {
    r.fail(
      [...path, 'tmpfs', 'size'],
      `invalid size ${JSON.stringify(size)} (expected a quantity such as 512Mi or 1Gi)`,
    );
  }
  if (!volumePath) return undefined;
  return { path: volumePath, tmpfs: size === undefined ? {} : { size } };
}

function decodeContainer(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): Container | undefined {
  const map = r.map(raw, path);
  if (!map) {
    if (raw === null || raw === undefined) r.fail(path, 'expected a map, got null');
    return undefined;
  }
  r.knownKeys(map, path, ['image', 'environment', 'user', 'privileged', 'entrypoint', 'volumes']);
  const image = r.string(map['image'], [...path, 'image']);
  if (!image) r.fail([...path, 'image'], 'image is required');
  const container: Container = {
    image: image ?? '',
    environment: decodeEnvironment(r, map['environment'], [...path, 'environment']),
    privileged: r.bool(map['privileged'], [...path, 'privileged']),
    volumes: [],
  };
  const user = r.string(map['user'], [...path, 'user']);
  if (user) container.user = user;
  const entrypoint = r.string(map['entrypoint'], [...path, 'entrypoint']);
  if (entrypoint) container.entrypoint = entrypoint;
  (r.list(map['volumes'], [...path, 'volumes']) ?? []).forEach((v, i) => {
    const volume = decodeVolume(r, v, [...path, 'volumes', i]);
    if (volume) container.volumes.push(volume);
  });
  return container;
}

/** Decodes a task runtime; the type defaults to `pod`. */
export function decodeRuntime(
  r: Reader,
  raw: unknown,
  path: readonly PathSegment[],
): Runtime | undefined {
  if (raw === undefined || raw === null) {
    r.fail(path, 'runtime is required');
    return undefined;
  }
  const map = r.map(raw, path);
  if (!map) return undefined;
  r.knownKeys(map, path, ['type', 'arch', 'containers']);
  const type = r.string(map['type'], [...path, 'type']) || 'pod';
  if (type !== 'pod')
    r.fail(
      [...path, 'type'],
      `unknown runtime type ${JSON.stringify(type)} (only pod is supported)`,
    );
  const runtime: Runtime = { type: 'pod', containers: [] };
  const arch = r.string(map['arch'], [...path, 'arch']);
  if (arch) {
    if ((ARCHS as readonly string[]).includes(arch)) runtime.arch = arch as Arch;
    else
      r.fail(
        [...path, 'arch'],
        `invalid arch ${JSON.stringify(arch)} (expected one of ${ARCHS.join(', ')})`,
      );
  }
  const containers = r.list(map['containers'], [...path, 'containers']) ?? [];
  if (containers.length === 0)
    r.fail([...path, 'containers'], 'at least one container is required');
  containers.forEach((c, i) => {
    const container = decodeContainer(r, c, [...path, 'containers', i]);
    if (container) runtime.containers.push(container);
  });
  return runtime;
}
