import { sharedContainerRuntime } from '@agola-ts/testkit';
import { createDockerDriver } from '../src/index.js';
import { describeDriver } from './driver-conformance.js';

const rt = await sharedContainerRuntime();

if (rt.unavailable === undefined) {
  describeDriver('docker (podman socket)', async () => ({
    create: async (executorId) =>
      createDockerDriver({
        type: 'docker',
        executorId,
        socketPath: rt.socketPath!,
        networkMode: 'none',
      }),
    image: rt.busyboxImage!,
    usesImages: true,
  }));
}
