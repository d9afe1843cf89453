import { sharedContainerRuntime } from '@agola-ts/testkit';
import { describeE2E } from './e2e-suite.js';

const rt = await sharedContainerRuntime();

if (rt.unavailable === undefined) {
  describeE2E(
    'end to end, docker driver (podman socket)',
    async () => ({
      driver: { type: 'docker', socketPath: rt.socketPath!, networkMode: 'none' },
      image: rt.busyboxImage!,
    }),
    false,
  );
}
