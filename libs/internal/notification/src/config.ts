import {
  boolean,
  duration,
  etcdSchema,
  integer,
  list,
  object,
  oneOf,
  optional,
  refine,
  string,
  url,
  webSchema,
  type HostPort,
  type Infer,
  type Issue,
} from '@agola-ts/service-kit';
import type { RunPhase } from '@agola-ts/types';

/** The run phases a run webhook can subscribe to (`events`). */
export const RUN_WEBHOOK_EVENTS = [
  'queued',
  'running',
  'finished',
  'cancelled',
  'setuperror',
] as const satisfies readonly RunPhase[];

/** A run webhook: where run phase and result changes are POSTed. */
export interface RunWebhookConfig {
  /** An http(s) URL. Its credentials and query are never logged nor shown in records. */
  url: string;
  /** The HMAC-SHA256 key of `X-Agola-Signature`. */
  secret: string;
  /** Only changes into these phases (every change when absent). */
  events?: RunPhase[];
}

const runWebhookSchema = refine(
  object({
    url: url(),
    secret: string(),
    events: optional(list(oneOf(RUN_WEBHOOK_EVENTS))),
  }),
  (w): RunWebhookConfig | Issue =>
    w.events !== undefined && w.events.length === 0
      ? { key: 'events', issue: 'must not be empty (leave it out for every event)' }
      : w,
);

/**
 * The `notification` section of the config file: Agola's keys (`webExposedURL`,
 * `runserviceURL`, `configstoreURL`, `etcd`) plus `web` (health and deliveries),
 * `runWebhooks`, `streamDownGrace`, `streamIdleTimeout` and the delivery retry and retention settings.
 */
export const notificationSchema = object({
  debug: optional(boolean(), false),
  webExposedURL: url(),
  runserviceURL: url(),
  configstoreURL: url(),
  etcd: optional(etcdSchema, { endpoints: ['http://127.0.0.1:2379'], tlsSkipVerify: false }),
  web: optional(webSchema),
  runWebhooks: optional(list(runWebhookSchema), []),
  streamDownGrace: optional(duration(), 30_000),
  streamIdleTimeout: optional(duration(), 45_000),
  deliveryAttempts: optional(integer(1), 6),
  deliveryRetention: optional(duration(), 7 * 24 * 3_600_000),
});

/** A checked {@link notificationSchema} section. */
export type NotificationSection = Infer<typeof notificationSchema>;

/** The notification service's config (a checked `notification` section plus the installation id). */
export interface NotificationConfig {
  /** The installation id (the config file's top-level `id`), the commit status context prefix. @default 'agola' */
  id?: string;
  /** Base of the run links: `<webExposedURL>/run?projectref=<projectID>&runnumber=<n>`. */
  webExposedURL: string;
  /** The runservice, with or without `/api/v1alpha`. */
  runserviceURL: string;
  /** The configstore, with or without `/api/v1alpha`. */
  configstoreURL: string;
  /** etcd endpoints (keys under `notification/`); ignored when `deps.etcd` is given. */
  etcd?: { endpoints?: string[] };
  /** Where `GET /health` and `GET /api/v1alpha/deliveries` answer; no HTTP server without. */
  web?: { listen?: HostPort };
  /** Outbound run webhooks. @default [] */
  runWebhooks?: RunWebhookConfig[];
  /** `GET /health` is degraded once the event stream has been down this long (ms). @default 30000 */
  streamDownGrace?: number;
  /**
   * The event stream is taken as dead, aborted and reopened when no byte (not even the
   * runservice's keep-alive comment, every 15 s) came for this long (ms). @default 45000
   */
  streamIdleTimeout?: number;
  /** Attempts of a webhook delivery, the first included. @default 6 */
  deliveryAttempts?: number;
  /** How long delivery records are kept (ms; an etcd lease). @default 7 days */
  deliveryRetention?: number;
}
