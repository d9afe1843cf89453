/** Error codes of `@agola-ts/configstore` (each is documented in docs/errors.md). */
export const ConfigstoreErrorCodes = {
  /** A request field is missing or invalid (HTTP 400); the message names the field. */
  InvalidRequest: 'ERR_CONFIGSTORE_INVALID_REQUEST',
  /** An entity with this name (or link) already exists (HTTP 400). */
  AlreadyExists: 'ERR_CONFIGSTORE_ALREADY_EXISTS',
  /** A mutation names an entity that does not exist (HTTP 400; a GET of it is a 404). */
  MissingEntity: 'ERR_CONFIGSTORE_MISSING_ENTITY',
  /**
   * Another request changed the same entities meanwhile and the retries did not settle it
   * (HTTP 400): re-read and retry.
   */
  ConcurrentUpdate: 'ERR_CONFIGSTORE_CONCURRENT_UPDATE',
} as const;

/** One of {@link ConfigstoreErrorCodes}. */
export type ConfigstoreErrorCode =
  (typeof ConfigstoreErrorCodes)[keyof typeof ConfigstoreErrorCodes];
