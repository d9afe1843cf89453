import { ApiError } from '@agola-ts/errors';
import { sleep, type EtcdClient, type Logger } from '@agola-ts/etcd';
import { DataManagerErrorCodes } from './codes.js';
import { runGroup } from './run-group.js';

/** The maintenance key, in the service's etcd prefix (as Agola's). */
export const MAINTENANCE_KEY = 'maintenance';

/** The mode a service instance runs in. */
export type ServiceMode = 'normal' | 'maintenance';

/** True when the service's maintenance key exists. */
export async function isMaintenanceEnabled(etcd: EtcdClient): Promise<boolean> {
  return (await etcd.get(MAINTENANCE_KEY)).kv !== undefined;
}

/**
 * Enables or disables maintenance mode of a service (every instance switches, through
 * {@link runMaintenanceAware}).
 *
 * @throws an `ApiError` of kind `badrequest` (code `ERR_DATAMANAGER_MAINTENANCE_STATE`) with
 *   Agola's message "maintenance mode already enabled" / "... disabled".
 */
export async function setMaintenanceMode(etcd: EtcdClient, enabled: boolean): Promise<void> {
  const res = await etcd.txn({
    compare: [
      { key: MAINTENANCE_KEY, target: 'create', operator: enabled ? '==' : '>', value: 0n },
    ],
    success: [
      enabled
        ? { type: 'put', key: MAINTENANCE_KEY, value: '' }
        : { type: 'delete', key: MAINTENANCE_KEY },
    ],
  });
  if (!res.succeeded) {
    throw new ApiError(
      'badrequest',
      `maintenance mode already ${enabled ? 'enabled' : 'disabled'}`,
      {
        code: DataManagerErrorCodes.MaintenanceState,
      },
    );
  }
}

/** Options of {@link runMaintenanceAware}. */
export interface RunMaintenanceAwareOptions {
  /** The service's etcd client (its prefix holds the maintenance key). */
  etcd: EtcdClient;
  /**
   * Runs the service in a mode until its signal aborts (then it must stop and return). It is
   * restarted in the other mode whenever the maintenance key changes.
   */
  run: (mode: ServiceMode, signal: AbortSignal) => Promise<void>;
  /** Stops everything. */
  signal: AbortSignal;
  logger?: Logger;
  /** Wait before restarting after a failure. @default 1000 */
  retryMs?: number;
  /** Called when a mode starts (for observability and tests). */
  onMode?: (mode: ServiceMode) => void;
}

/**
 * Runs a service in normal or maintenance mode, following the service's maintenance key:
 * every instance watches it and, when it no longer matches the mode it runs in, stops its run
 * and starts it again in the other mode (asynchronous and eventually consistent across
 * replicas, as Agola's). A failing run or watch stops the other one (first error wins) and
 * both are restarted after `retryMs`.
 */
export async function runMaintenanceAware(options: RunMaintenanceAwareOptions): Promise<void> {
  const { etcd, signal } = options;
  while (!signal.aborted) {
    let mode: ServiceMode | undefined;
    try {
      const { kv, revision } = await etcd.get(MAINTENANCE_KEY);
      const current: ServiceMode = kv ? 'maintenance' : 'normal';
      mode = current;
      options.onMode?.(current);
      options.logger?.info({ mode: current }, 'service running');
      await runGroup(signal, [
        (s) => options.run(current, s),
        async (s) => {
          for await (const res of etcd.watch(MAINTENANCE_KEY, {
            startRevision: revision + 1n,
            signal: s,
          })) {
            const last = [...res.events].reverse().find((e) => e.kv.key === MAINTENANCE_KEY);
            if (!last) continue;
            const next: ServiceMode = last.type === 'put' ? 'maintenance' : 'normal';
            if (next !== current) throw new ModeSwitch(next);
          }
        },
      ]);
      if (signal.aborted) return;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ModeSwitch) {
        options.logger?.info({ from: mode, to: err.next }, 'switching service mode');
        continue;
      }
      options.logger?.warn({ err }, 'service run failed; restarting');
      await sleep(options.retryMs ?? 1000, signal);
    }
  }
}

/** Internal signal of a mode change (not an error for callers). */
class ModeSwitch extends Error {
  constructor(readonly next: ServiceMode) {
    super(`maintenance mode ${next === 'maintenance' ? 'enabled' : 'disabled'}`);
  }
}
