import { newError } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';

/** What the container global setup provides to every test file of a vitest run. */
export interface SharedContainerRuntime {
  /** Path of the Docker-compatible API socket (absent when unavailable). */
  socketPath?: string;
  /** The local busybox image (absent when unavailable). */
  busyboxImage?: string;
  /** Why no runtime was started (`AGOLA_TEST_NO_CONTAINERS=1`). */
  unavailable?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    agolaContainers: SharedContainerRuntime;
  }
}

/**
 * The container runtime shared by the whole test run (from
 * `@agola-ts/testkit/container-global-setup`). `unavailable` is set, and the other fields are
 * absent, only when the run was started with `AGOLA_TEST_NO_CONTAINERS=1`: tests skip on it
 * (`describe.skipIf(!!rt.unavailable)`).
 *
 * @throws `ERR_TESTKIT_NOT_PROVIDED` when the vitest config lacks the container global setup.
 */
export async function sharedContainerRuntime(): Promise<SharedContainerRuntime> {
  const { inject } = await import('vitest');
  const value = inject('agolaContainers');
  if (!value) {
    throw newError(
      "no shared container runtime: add globalSetup: ['@agola-ts/testkit/container-global-setup'] to vitest.config.ts",
      { code: TestkitErrorCodes.NotProvided },
    );
  }
  return value;
}
