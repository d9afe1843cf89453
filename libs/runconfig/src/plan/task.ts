import { parseQuantity } from '../quantity.js';
import type { Container, Step } from '../types.js';
import { cloneRunStep } from './clone-script.js';
import { resolveEnvironment } from './resolve.js';
import type { RunConfigContainer, RunConfigStep } from './types.js';

/** A config container as a run config container, its environment resolved. */
export function runConfigContainer(
  c: Container,
  variables: Readonly<Record<string, string>>,
): RunConfigContainer {
  return {
    image: c.image,
    environment: resolveEnvironment(c.environment, variables),
    user: c.user ?? '',
    privileged: c.privileged,
    entrypoint: c.entrypoint ?? '',
    volumes: c.volumes.map((v) => ({
      path: v.path,
      tmpfs: { size: v.tmpfs.size === undefined ? 0 : (parseQuantity(v.tmpfs.size) ?? 0) },
    })),
  };
}

/** A config step as a run config step: clone becomes its run step, values are resolved. */
export function runConfigStep(
  step: Step,
  variables: Readonly<Record<string, string>>,
): RunConfigStep {
  switch (step.type) {
    case 'clone':
      return cloneRunStep(step);
    case 'run':
      return {
        type: 'run',
        name: step.name,
        command: step.command,
        environment: resolveEnvironment(step.environment, variables),
        working_dir: step.working_dir ?? '',
        shell: step.shell ?? '',
        tty: step.tty,
      };
    case 'save_to_workspace':
      return {
        type: step.type,
        name: step.name ?? '',
        contents: step.contents.map((c) => ({ ...c, paths: [...c.paths] })),
      };
    case 'restore_workspace':
      return { type: step.type, name: step.name ?? '', dest_dir: step.dest_dir };
    case 'save_cache':
      return {
        type: step.type,
        name: step.name ?? '',
        key: step.key,
        contents: step.contents.map((c) => ({ ...c, paths: [...c.paths] })),
      };
    case 'restore_cache':
      return {
        type: step.type,
        name: step.name ?? '',
        keys: [...step.keys],
        dest_dir: step.dest_dir,
      };
  }
}
