import { sharedContainerRuntime } from '@agola-ts/testkit';
import { createDockerDriver } from '../src/index.js';
import { describeSteps } from './steps-suite.js';

const rt = await sharedContainerRuntime();

if (rt.unavailable === undefined) {
  describeSteps('docker driver (podman socket)', async () => ({
    driver: createDockerDriver({
      type: 'docker',
      executorId: 'steps-docker',
      socketPath: rt.socketPath!,
      networkMode: 'none',
    }),
    image: rt.busyboxImage!,
  }));
}
