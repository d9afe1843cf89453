// vitest global setup: one podman Docker-compatible API (with a local busybox image) for a
// whole test run. Use it with `globalSetup: ['@agola-ts/testkit/container-global-setup']`;
// tests then call sharedContainerRuntime().
import type { TestProject } from 'vitest/node';
import { startContainerRuntime } from './container-runtime.js';
import type { SharedContainerRuntime } from './shared-containers.js';

/**
 * Starts the shared container runtime and returns its teardown. With the environment variable
 * `AGOLA_TEST_NO_CONTAINERS=1` nothing is started and tests see the runtime as unavailable
 * (for machines without podman; CI installs it, so there the variable stays unset).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env['AGOLA_TEST_NO_CONTAINERS'] === '1') {
    const provided: SharedContainerRuntime = {
      unavailable: 'AGOLA_TEST_NO_CONTAINERS=1 is set',
    };
    project.provide('agolaContainers', provided);
    return async () => undefined;
  }
  const rt = await startContainerRuntime();
  const provided: SharedContainerRuntime = {
    socketPath: rt.socketPath,
    busyboxImage: rt.busyboxImage,
  };
  project.provide('agolaContainers', provided);
  return () => rt.stop();
}
