import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataManagerErrorCodes, type ServiceMode } from '@agola-ts/datamanager';
import { compactText, findCause, is } from '@agola-ts/errors';
import { EtcdErrorCodes } from '@agola-ts/etcd';
import { ServiceKitErrorCodes } from './codes.js';
import type { ErrorResponse } from './error-handler.js';

/** The path of the health route (outside `API_PREFIX`). */
export const HEALTH_PATH = '/health';

/** What a component reports when it does not work as it should. */
export interface HealthProblem {
  /** A stable code: an error code (`ERR_ETCD_UNAVAILABLE`...) or a service-kit one. */
  code: string;
  /** What is wrong, for a human. */
  message: string;
}

/** One reason of a degraded service, as `GET /health` lists it. */
export interface HealthReason extends HealthProblem {
  /** The component that reported it (`etcd`, `service`, `follower`...). */
  component: string;
  /** When it was first reported (ISO 8601). */
  since: string;
  /** When it stops counting on its own (ISO 8601), for a problem reported for a while only. */
  until?: string;
}

/**
 * The body of `GET /health`: 200 `{ status: 'ready', mode, reasons: [] }` or 503
 * `{ status: 'degraded', mode, reasons: [...] }`. `mode` is the mode being served
 * (`normal` or `maintenance`), `null` while none is (starting, or etcd unreachable at start).
 */
export interface HealthReport {
  status: 'ready' | 'degraded';
  mode: ServiceMode | null;
  reasons: HealthReason[];
}

interface Entry {
  problem: HealthProblem;
  since: number;
  until: number | undefined;
}

/**
 * The health of a service: each component reports its problem (or its recovery) here, and
 * `GET /health` answers from it. A component holds at most one problem at a time; a
 * component reporting the same code again keeps its `since`.
 *
 * @example
 * ```ts
 * const health = createServiceHealth();
 * health.report('follower', { code: 'ERR_ETCD_UNAVAILABLE', message: 'readdb follower: etcd unreachable' });
 * health.report('follower', undefined); // recovered
 * health.report('datamanager', { code: 'ERR_DATAMANAGER_WALS_LOST', message: '3 wals lost' }, { forMs: 900_000 });
 * ```
 */
export class ServiceHealth {
  private readonly problems = new Map<string, Entry>();
  /** The mode being served, `undefined` while none is. */
  mode: ServiceMode | undefined;

  /**
   * Records the problem of `component`, or clears it with `undefined`. With `forMs`, the
   * problem stops counting after that long (unless reported again).
   */
  report(
    component: string,
    problem: HealthProblem | undefined,
    options: { forMs?: number } = {},
  ): void {
    if (!problem) {
      this.problems.delete(component);
      return;
    }
    const now = Date.now();
    const old = this.problems.get(component);
    const since = old && old.problem.code === problem.code && !expired(old, now) ? old.since : now;
    const until = options.forMs !== undefined ? now + options.forMs : undefined;
    this.problems.set(component, { problem: { ...problem }, since, until });
  }

  /** The current problem of a component, if any. */
  problem(component: string): HealthProblem | undefined {
    const entry = this.problems.get(component);
    return entry && !expired(entry, Date.now()) ? { ...entry.problem } : undefined;
  }

  /** The report `GET /health` sends. */
  snapshot(): HealthReport {
    const now = Date.now();
    const reasons: HealthReason[] = [];
    for (const [component, entry] of this.problems) {
      if (expired(entry, now)) {
        this.problems.delete(component);
        continue;
      }
      reasons.push({
        component,
        code: entry.problem.code,
        message: entry.problem.message,
        since: new Date(entry.since).toISOString(),
        ...(entry.until !== undefined ? { until: new Date(entry.until).toISOString() } : {}),
      });
    }
    reasons.sort((a, b) => a.component.localeCompare(b.component));
    return {
      status: reasons.length === 0 ? 'ready' : 'degraded',
      mode: this.mode ?? null,
      reasons,
    };
  }
}

function expired(entry: Entry, now: number): boolean {
  return entry.until !== undefined && entry.until <= now;
}

/** Creates an empty {@link ServiceHealth} (ready until a component reports a problem). */
export function createServiceHealth(): ServiceHealth {
  return new ServiceHealth();
}

/**
 * A problem from an error: its code (the outermost code of the chain that is not
 * `ERR_UNKNOWN`, else `fallbackCode`) and `context: <error chain text>`.
 */
export function healthProblemOf(
  err: unknown,
  context: string,
  fallbackCode: string = ServiceKitErrorCodes.Unavailable,
): HealthProblem {
  const coded = findCause<{ code: string }>(
    err,
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as { code?: unknown }).code === 'string' &&
      (e as { code: string }).code.startsWith('ERR_') &&
      (e as { code: string }).code !== 'ERR_UNKNOWN',
  );
  return { code: coded?.code ?? fallbackCode, message: `${context}: ${compactText(err)}` };
}

/** Answers `GET /health` with a report: 200 when ready, 503 when degraded. */
export function sendHealth(reply: FastifyReply, report: HealthReport): FastifyReply {
  return reply
    .code(report.status === 'ready' ? 200 : 503)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(report);
}

/**
 * The 503 for an error that means "etcd is unreachable now" (or its datamanager state is
 * being rebuilt after a reset): the service can still answer reads from its readdb, but not
 * write. `undefined` for any other error.
 */
export function unavailableResponse(err: unknown): ErrorResponse | undefined {
  if (is(err, EtcdErrorCodes.Unavailable) || is(err, DataManagerErrorCodes.NotInitialized)) {
    return {
      status: 503,
      body: {
        code: ServiceKitErrorCodes.Unavailable,
        message: 'etcd is unreachable: the service answers reads but cannot write now; retry later',
      },
    };
  }
  return undefined;
}

/**
 * Error handler of a mode's routes: {@link unavailableResponse} for etcd being away (logged
 * at warn level with the cause), else `fallback` (the service kit's `handleError`).
 */
export function withUnavailable(
  fallback: (err: unknown, req: FastifyRequest, reply: FastifyReply) => void,
): (err: unknown, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    const unavailable = unavailableResponse(err);
    if (!unavailable) {
      fallback(err, req, reply);
      return;
    }
    req.log.warn(
      { err, status: unavailable.status },
      `${req.method} ${req.routeOptions.url ?? ''}: ${unavailable.body.message}`,
    );
    void reply
      .code(unavailable.status)
      .type('application/json; charset=utf-8')
      .send(unavailable.body);
  };
}
