/** Error codes of `@agola-ts/testkit` (documented in docs/errors.md). */
export const TestkitErrorCodes = {
  /** A component's executable is not installed (etcd from Debian's etcd-server). */
  BinaryMissing: 'ERR_TESTKIT_BINARY_MISSING',
  /** A component exited or did not become ready in time; the message holds its output. */
  StartFailed: 'ERR_TESTKIT_START_FAILED',
  /** A shared component was asked for outside a test run with the testkit global setup. */
  NotProvided: 'ERR_TESTKIT_NOT_PROVIDED',
  /** A forge simulator helper was misused (unknown user or repo, a duplicate name). */
  ForgeUsage: 'ERR_TESTKIT_FORGE_USAGE',
  /** A benchmark's load process (autocannon) failed or printed no result. */
  LoadFailed: 'ERR_TESTKIT_LOAD_FAILED',
} as const;
