import type { Writable } from 'node:stream';
import { POD_LABELS, type Arch, type DriverLogger, type PodConfig } from './types.js';

/** A logger that drops everything (libraries are silent unless given one). */
export const silentLogger: DriverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const GO_ARCH: Record<string, Arch> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64' };
const ENGINE_ARCH: Record<string, Arch> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  i386: '386',
  i686: '386',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'arm',
  arm: 'arm',
};

/** Agola's (Go's) name of a Node.js arch. */
export function goArch(nodeArch: string): Arch {
  return GO_ARCH[nodeArch] ?? 'amd64';
}

/** Agola's name of an arch reported by a container engine (`x86_64`, `aarch64`). */
export function engineArch(arch: string): Arch | undefined {
  return Object.hasOwn(ENGINE_ARCH, arch) ? ENGINE_ARCH[arch] : undefined;
}

/** The labels of a pod: the extra ones, then the `agola.io/*` ones (which win). */
export function podLabels(config: PodConfig, executorId: string): Record<string, string> {
  return {
    ...config.labels,
    [POD_LABELS.agola]: 'true',
    [POD_LABELS.executorId]: executorId,
    [POD_LABELS.podId]: config.id,
    [POD_LABELS.taskId]: config.taskId,
  };
}

/** Writes one line to a setup log, if there is one. */
export function writeLine(out: Writable | undefined, line: string): void {
  out?.write(`${line}\n`);
}
