/** Error codes of `@agola-ts/service-kit` (each is documented in docs/errors.md). */
export const ServiceKitErrorCodes = {
  /** No route for this path (HTTP 404). */
  NoRoute: 'ERR_SERVICE_NO_ROUTE',
  /** The path exists but not with this method (HTTP 405). */
  MethodNotAllowed: 'ERR_SERVICE_METHOD_NOT_ALLOWED',
  /** The request body is larger than the server's body limit (HTTP 413). */
  BodyTooLarge: 'ERR_SERVICE_BODY_TOO_LARGE',
  /** The request body cannot be parsed, or does not match the route's schema (HTTP 400). */
  InvalidBody: 'ERR_SERVICE_INVALID_BODY',
  /** The request body nests objects and arrays deeper than the server's limit (HTTP 400). */
  BodyTooDeep: 'ERR_SERVICE_BODY_TOO_DEEP',
  /** A path segment of the URL is longer than the router addresses (HTTP 414). */
  UrlTooLong: 'ERR_SERVICE_URL_TOO_LONG',
  /** The request line and headers are larger than the server accepts (HTTP 431). */
  HeadersTooLarge: 'ERR_SERVICE_HEADERS_TOO_LARGE',
  /** The request cannot be read: a malformed URL or HTTP message (HTTP 400). */
  BadRequest: 'ERR_SERVICE_BAD_REQUEST',
  /** The request's content type is not accepted by the route (HTTP 400). */
  UnsupportedContentType: 'ERR_SERVICE_UNSUPPORTED_CONTENT_TYPE',
  /** The config file cannot be read or is not valid YAML. */
  ConfigRead: 'ERR_SERVICE_CONFIG_READ',
  /** The config file has a bad, missing or unknown key. */
  InvalidConfig: 'ERR_SERVICE_INVALID_CONFIG',
  /** The service could not listen on its address (the port stayed busy, or a bad address). */
  Listen: 'ERR_SERVICE_LISTEN',
  /**
   * HTTP 503: the service cannot answer this now (starting, switching mode, its readdb not
   * caught up, or etcd unreachable for a write). Also the code of such a health reason.
   */
  Unavailable: 'ERR_SERVICE_UNAVAILABLE',
  /** Health reason: a mode of the service is starting (its routes are not served yet). */
  Starting: 'ERR_SERVICE_STARTING',
} as const;

/** One of {@link ServiceKitErrorCodes}. */
export type ServiceKitErrorCode = (typeof ServiceKitErrorCodes)[keyof typeof ServiceKitErrorCodes];
