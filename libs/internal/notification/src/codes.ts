/** Error codes of `@agola-ts/notification` (each is documented in docs/errors.md). */
export const NotificationErrorCodes = {
  /** The notification config is invalid (the message names the key). */
  InvalidConfig: 'ERR_NOTIFICATION_INVALID_CONFIG',
  /** The runservice's run event stream has been down for longer than the grace period. */
  StreamDown: 'ERR_NOTIFICATION_STREAM_DOWN',
  /**
   * The run event stream sent no byte (not even a keep-alive comment) for `streamIdleTimeout`:
   * it was aborted as dead and is reopened.
   */
  StreamSilent: 'ERR_NOTIFICATION_STREAM_SILENT',
  /** A run webhook receiver did not answer 2xx (or could not be reached) on every attempt. */
  DeliveryFailed: 'ERR_NOTIFICATION_DELIVERY_FAILED',
  /** A run's group is neither `/project/<id>/...` nor `/user/<id>/...`. */
  BadRunGroup: 'ERR_NOTIFICATION_BAD_RUN_GROUP',
} as const;

/** One of {@link NotificationErrorCodes}. */
export type NotificationErrorCode =
  (typeof NotificationErrorCodes)[keyof typeof NotificationErrorCodes];
