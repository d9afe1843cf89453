import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { newError, toError } from '@agola-ts/errors';
import { prefixEnd, sleep, type EtcdClient } from '@agola-ts/etcd';
import type { Run, RunPhase, RunResult } from '@agola-ts/types';
import { NotificationErrorCodes } from './codes.js';
import { maskURL } from './commit-status.js';
import type { RunWebhookConfig } from './config.js';

/** The header with the HMAC-SHA256 of the body: `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-agola-signature';
/** The header with the delivery id (the same on every attempt of a delivery). */
export const DELIVERY_HEADER = 'x-agola-delivery';
/** The header with the attempt number (1 for the first). */
export const ATTEMPT_HEADER = 'x-agola-attempt';
/** The header naming the event kind (`run`). */
export const EVENT_HEADER = 'x-agola-event';

/**
 * The JSON body of a run webhook: one run's phase or result change. Times are ISO 8601 or
 * null; `link` and the project fields are null for user (direct) runs.
 */
export interface RunWebhookPayload {
  /** The installation id. */
  agola_id: string;
  run_id: string;
  /** The run number (its counter in the project or user). */
  run_number: number;
  run_name: string;
  group: string;
  /** The project id (Agola's `projectref` of the run link), or null for a user run. */
  project_id: string | null;
  /** The project's path (`org/acme/app`, `user/alice/app`), when known. */
  project_path: string | null;
  /** The user id of a user (direct) run, else null. */
  user_id: string | null;
  phase: RunPhase;
  result: RunResult;
  enqueue_time: string | null;
  start_time: string | null;
  end_time: string | null;
  /** The run's page: `<webExposedURL>/run?projectref=<projectID>&runnumber=<n>`. */
  link: string | null;
  commit_sha: string | null;
  ref: string | null;
}

/** The webhook payload of a run in `phase`/`result` (the event's, which may lag the run's). */
export function runWebhookPayload(
  run: Run,
  state: { phase: RunPhase; result: RunResult },
  extra: {
    agolaId: string;
    projectId?: string;
    projectPath?: string;
    userId?: string;
    link?: string;
  },
): RunWebhookPayload {
  const ann = run.annotations ?? {};
  const annotation = (k: string) => (Object.hasOwn(ann, k) ? (ann[k] ?? null) : null);
  return {
    agola_id: extra.agolaId,
    run_id: run.id,
    run_number: run.counter,
    run_name: run.name,
    group: run.group,
    project_id: extra.projectId ?? null,
    project_path: extra.projectPath ?? null,
    user_id: extra.userId ?? null,
    phase: state.phase,
    result: state.result,
    enqueue_time: run.enqueue_time ?? null,
    start_time: run.start_time ?? null,
    end_time: run.end_time ?? null,
    link: extra.link ?? null,
    commit_sha: annotation('commit_sha'),
    ref: annotation('ref'),
  };
}

/**
 * `sha256=<hex HMAC-SHA256 of body with secret>`, the value of `X-Agola-Signature`.
 *
 * @example
 * ```ts
 * // a receiver checks it on the raw body, in constant time
 * const expected = signBody(secret, rawBody);
 * const ok = expected.length === header.length && timingSafeEqual(Buffer.from(expected), Buffer.from(header));
 * ```
 */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** One attempt of a delivery. */
export interface DeliveryAttempt {
  attempt: number;
  /** When it was sent (ISO 8601). */
  time: string;
  /** The receiver's HTTP status; absent when no answer came. */
  status?: number;
  /** Why it failed (`HTTP 500`, `ECONNREFUSED`, `timeout`); absent on success. */
  error?: string;
  duration_ms: number;
}

/** A delivery's state: retrying, done, or given up after the last attempt. */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** A delivery as recorded in etcd and listed by `GET /api/v1alpha/deliveries`. */
export interface DeliveryRecord {
  id: string;
  /** The receiver URL without credentials, query or fragment. */
  webhook: string;
  /** The index of the webhook in `runWebhooks`. */
  webhook_index: number;
  run_id: string;
  phase: RunPhase;
  result: RunResult;
  state: DeliveryState;
  attempts: DeliveryAttempt[];
  created_at: string;
  updated_at: string;
  /** When the next attempt is due (pending only). */
  next_attempt_at?: string;
  /** The JSON body sent on every attempt. */
  body: string;
}

/** Retry settings of {@link WebhookDeliverer}. */
export interface DeliveryRetry {
  /** Attempts, the first included. @default 6 */
  attempts: number;
  /** Delay before the second attempt; doubled each time. @default 1000 */
  initialDelayMs: number;
  /** Longest delay between attempts. @default 60000 */
  maxDelayMs: number;
  /** A receiver that does not answer within this fails the attempt. @default 10000 */
  timeoutMs: number;
}

/** The default {@link DeliveryRetry}. */
export const DEFAULT_DELIVERY_RETRY: DeliveryRetry = {
  attempts: 6,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  timeoutMs: 10_000,
};

/** The etcd key prefix of delivery records (inside the `notification/` prefix). */
export const DELIVERIES_PREFIX = 'deliveries/';

/** Default number of records of a deliveries page. */
export const DEFAULT_DELIVERIES_LIMIT = 100;
/** Largest number of records of a deliveries page (a larger `limit` is cut to it). */
export const MAX_DELIVERIES_LIMIT = 1000;

/** A delivery id: `<15-digit creation time in ms>-<uuid>` (ids sort by creation time). */
export const DELIVERY_ID_RE =
  /^\d{15}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A query of {@link WebhookDeliverer.page}. */
export interface DeliveriesQuery {
  /** Only the deliveries of this run. */
  runId?: string;
  /** Only the deliveries in this state. */
  state?: DeliveryState;
  /** At most this many, 1 to {@link MAX_DELIVERIES_LIMIT}. @default 100 */
  limit?: number;
  /** Only the deliveries after this id in the listing order (the previous page's last id). */
  start?: string;
  /** Oldest first instead of newest first. @default false */
  asc?: boolean;
}

/** One page of deliveries. */
export interface DeliveriesPage {
  deliveries: DeliveryRecord[];
  /** The `start` of the next page: set only when more deliveries match. */
  next?: string;
}

/** Options of {@link WebhookDeliverer}. */
export interface WebhookDelivererOptions {
  etcd: EtcdClient;
  webhooks: readonly RunWebhookConfig[];
  logger: Logger;
  retry: DeliveryRetry;
  /** How long records are kept (ms). */
  retentionMs: number;
}

/** The reason of a failed request, without the URL. */
function failureText(err: unknown): string {
  const e = toError(err);
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return e.message.slice(0, 200);
}

/**
 * Sends run webhooks: each delivery is recorded in etcd (`deliveries/<id>`, with a lease of
 * the retention period) before its first attempt and after each one; failed attempts are
 * retried with exponential backoff up to the bounded number of attempts, then the delivery
 * is marked failed and logged at error level. Deliveries still pending when the service
 * stops are resumed by the next active instance ({@link resume}).
 */
export class WebhookDeliverer {
  private readonly inflight = new Set<Promise<void>>();
  private readonly leases = new Map<string, string>();
  private controller = new AbortController();

  constructor(private readonly o: WebhookDelivererOptions) {}

  /** Starts accepting deliveries (after {@link stop}). */
  start(): void {
    if (this.controller.signal.aborted) this.controller = new AbortController();
  }

  /** Queues one delivery of `payload` to every webhook subscribed to `payload.phase`. */
  async enqueue(payload: RunWebhookPayload): Promise<void> {
    const body = JSON.stringify(payload);
    for (const [index, hook] of this.o.webhooks.entries()) {
      if (hook.events && !hook.events.includes(payload.phase)) continue;
      const now = new Date().toISOString();
      const record: DeliveryRecord = {
        id: `${String(Date.now()).padStart(15, '0')}-${randomUUID()}`,
        webhook: maskURL(hook.url),
        webhook_index: index,
        run_id: payload.run_id,
        phase: payload.phase,
        result: payload.result,
        state: 'pending',
        attempts: [],
        created_at: now,
        updated_at: now,
        next_attempt_at: now,
        body,
      };
      await this.save(record);
      this.track(this.deliver(hook, record));
    }
  }

  /** Resumes the deliveries recorded as pending (a previous instance stopped meanwhile). */
  async resume(): Promise<number> {
    let resumed = 0;
    for await (const page of this.o.etcd.listPaged(DELIVERIES_PREFIX)) {
      for (const kv of page) {
        let record: DeliveryRecord;
        try {
          record = JSON.parse(kv.value.toString('utf8')) as DeliveryRecord;
        } catch {
          continue;
        }
        if (record.state !== 'pending') continue;
        const hook = this.o.webhooks[record.webhook_index];
        if (!hook || maskURL(hook.url) !== record.webhook) {
          record.state = 'failed';
          record.updated_at = new Date().toISOString();
          delete record.next_attempt_at;
          this.o.logger.warn(
            { deliveryId: record.id, webhook: record.webhook },
            'run webhook delivery dropped: the webhook is no longer configured',
          );
          await this.save(record);
          continue;
        }
        if (kv.lease !== '0') this.leases.set(record.id, kv.lease);
        resumed++;
        this.track(this.deliver(hook, record));
      }
    }
    return resumed;
  }

  /** The recorded deliveries, newest first (the first page of {@link page}). */
  async list(filter: DeliveriesQuery = {}): Promise<DeliveryRecord[]> {
    return (await this.page(filter)).deliveries;
  }

  /**
   * One page of the recorded deliveries, newest first (oldest first with `asc`), read from
   * etcd in key order (ids sort by creation time) at one revision, from the key after
   * `start`: without filters, only the page (plus one record, to know whether there is a
   * next page) is read; the run and state filters look at the records in batches until the
   * page is full or the records run out.
   */
  async page(
    q: DeliveriesQuery = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<DeliveriesPage> {
    const limit = Math.max(1, Math.min(MAX_DELIVERIES_LIMIT, q.limit ?? DEFAULT_DELIVERIES_LIMIT));
    const asc = q.asc === true;
    const { etcd } = this.o;
    const base = etcd.fullKey(DELIVERIES_PREFIX);
    let lo = base;
    let hi = prefixEnd(base);
    if (q.start !== undefined) {
      const k = etcd.fullKey(`${DELIVERIES_PREFIX}${q.start}`);
      if (asc) lo = Buffer.concat([k, Buffer.from([0])]);
      else hi = k;
    }
    const filtered = q.runId !== undefined || q.state !== undefined;
    const batch = filtered ? Math.min(MAX_DELIVERIES_LIMIT, Math.max(100, limit * 2)) : limit + 1;
    const out: DeliveryRecord[] = [];
    let revision: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      const res = await etcd.raw.kv.range({
        key: lo,
        range_end: hi,
        sort_order: asc ? 'Ascend' : 'Descend',
        sort_target: 'Key',
        limit: batch,
        ...(revision ? { revision } : {}),
      });
      revision ??= res.header.revision;
      for (const kv of res.kvs) {
        if (asc) lo = Buffer.concat([kv.key, Buffer.from([0])]);
        else hi = kv.key;
        let r: DeliveryRecord;
        try {
          r = JSON.parse(kv.value.toString('utf8')) as DeliveryRecord;
        } catch {
          continue; // a record that is not JSON is not ours
        }
        if (q.runId !== undefined && r.run_id !== q.runId) continue;
        if (q.state !== undefined && r.state !== q.state) continue;
        // one more than the page: there is a next page, starting after the page's last
        const last = out[out.length - 1];
        if (out.length >= limit && last) return { deliveries: out, next: last.id };
        out.push(r);
      }
      if (!res.more || res.kvs.length === 0) return { deliveries: out };
    }
  }

  /** Stops retrying (pending deliveries stay pending in etcd) and waits for attempts in flight. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.idle();
  }

  /** Resolves when no delivery is in progress. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async deliver(hook: RunWebhookConfig, record: DeliveryRecord): Promise<void> {
    const { retry, logger } = this.o;
    const signal = this.controller.signal;
    const log = { deliveryId: record.id, webhook: record.webhook, runId: record.run_id };
    for (let n = record.attempts.length + 1; n <= retry.attempts; n++) {
      // a resumed delivery waits at most this instance's longest delay
      const due = record.next_attempt_at
        ? Math.min(retry.maxDelayMs, Date.parse(record.next_attempt_at) - Date.now())
        : 0;
      if (due > 0) await sleep(due, signal);
      if (signal.aborted) return;
      const attempt = await this.attempt(hook, record, n, signal);
      record.attempts.push(attempt);
      record.updated_at = new Date().toISOString();
      if (attempt.error === undefined) {
        record.state = 'delivered';
        delete record.next_attempt_at;
        await this.save(record);
        logger.debug({ ...log, attempt: n }, 'run webhook delivered');
        return;
      }
      if (n >= retry.attempts) break;
      const delay = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (n - 1));
      record.next_attempt_at = new Date(Date.now() + delay).toISOString();
      await this.save(record);
      logger.warn(
        { ...log, attempt: n, reason: attempt.error, retryInMs: delay },
        'run webhook delivery attempt failed, retrying',
      );
    }
    if (signal.aborted) return;
    record.state = 'failed';
    delete record.next_attempt_at;
    await this.save(record);
    const last = record.attempts[record.attempts.length - 1];
    logger.error(
      {
        ...log,
        err: newError(
          `run webhook delivery failed after ${record.attempts.length} attempts: ${last?.error ?? 'unknown'}`,
          { code: NotificationErrorCodes.DeliveryFailed },
        ),
      },
      'run webhook delivery failed',
    );
  }

  private async attempt(
    hook: RunWebhookConfig,
    record: DeliveryRecord,
    n: number,
    signal: AbortSignal,
  ): Promise<DeliveryAttempt> {
    const time = new Date().toISOString();
    const t0 = performance.now();
    const took = () => Math.round(performance.now() - t0);
    try {
      // fetch refuses URLs with credentials: they go in a Basic Authorization header
      const target = new URL(hook.url);
      const auth =
        target.username || target.password
          ? `Basic ${Buffer.from(
              `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
            ).toString('base64')}`
          : undefined;
      target.username = '';
      target.password = '';
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          ...(auth ? { authorization: auth } : {}),
          'content-type': 'application/json',
          'user-agent': 'agola-ts-notification',
          [EVENT_HEADER]: 'run',
          [DELIVERY_HEADER]: record.id,
          [ATTEMPT_HEADER]: String(n),
          [SIGNATURE_HEADER]: signBody(hook.secret, record.body),
        },
        body: record.body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.retry.timeoutMs)]),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        return { attempt: n, time, status: res.status, duration_ms: took() };
      }
      return {
        attempt: n,
        time,
        status: res.status,
        error: `HTTP ${res.status}`,
        duration_ms: took(),
      };
    } catch (err) {
      return { attempt: n, time, error: failureText(err), duration_ms: took() };
    }
  }

  /** Writes a record with its lease; a record that cannot be written is logged, not fatal. */
  private async save(record: DeliveryRecord): Promise<void> {
    try {
      let lease = this.leases.get(record.id);
      if (!lease) {
        const ttl = Math.max(1, Math.ceil(this.o.retentionMs / 1000));
        const l = this.o.etcd.raw.lease(ttl, { autoKeepAlive: false });
        lease = await l.grant();
        l.release();
        this.leases.set(record.id, lease);
      }
      await this.o.etcd.put(`${DELIVERIES_PREFIX}${record.id}`, JSON.stringify(record), {
        lease,
      });
      if (record.state !== 'pending') this.leases.delete(record.id);
    } catch (err) {
      this.o.logger.warn(
        { err, deliveryId: record.id, webhook: record.webhook },
        'cannot record a run webhook delivery',
      );
    }
  }
}
