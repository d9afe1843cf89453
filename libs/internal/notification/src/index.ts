export { createNotification, NOTIFICATION_ETCD_PREFIX, RUN_EVENTS_LOCK } from './notification.js';
export type {
  DeliveriesFilter,
  Notification,
  NotificationDeps,
  ReconnectBackoff,
} from './notification.js';
export { notificationSchema, RUN_WEBHOOK_EVENTS } from './config.js';
export type { NotificationConfig, NotificationSection, RunWebhookConfig } from './config.js';
export {
  commitStatusOf,
  maskURL,
  runOwnerOf,
  statusContext,
  statusDescription,
  webRunURL,
} from './commit-status.js';
export type { RunOwner } from './commit-status.js';
export {
  ATTEMPT_HEADER,
  DEFAULT_DELIVERIES_LIMIT,
  DEFAULT_DELIVERY_RETRY,
  DELIVERIES_PREFIX,
  DELIVERY_HEADER,
  DELIVERY_ID_RE,
  MAX_DELIVERIES_LIMIT,
  EVENT_HEADER,
  runWebhookPayload,
  SIGNATURE_HEADER,
  signBody,
  WebhookDeliverer,
} from './webhooks.js';
export type {
  DeliveriesPage,
  DeliveriesQuery,
  DeliveryAttempt,
  DeliveryRecord,
  DeliveryRetry,
  DeliveryState,
  RunWebhookPayload,
  WebhookDelivererOptions,
} from './webhooks.js';
export {
  isFinalPhase,
  LAST_RUN_KEY,
  RUN_STATES_PREFIX,
  RunStates,
  stateRank,
} from './run-states.js';
export type { RunState } from './run-states.js';
export { NotificationErrorCodes } from './codes.js';
export type { NotificationErrorCode } from './codes.js';
