/**
 * Health reasons of a service built on a datamanager with a readdb: its follower, wals lost in
 * an etcd wipe, the object storage, and the storage sync. The configstore and the runservice
 * report them the same way.
 */
import {
  DataManagerErrorCodes,
  type DataManager,
  type FollowStatus,
  type LostWals,
} from '@agola-ts/datamanager';
import { sleep } from '@agola-ts/etcd';
import type { ObjectStorage } from '@agola-ts/ost';
import { healthProblemOf, type ServiceHealth } from './health.js';
import type { ServiceLogger } from './service-logger.js';

/** How long lost wals (an etcd wipe before their sync) keep the health degraded: 15 minutes. */
export const WALS_LOST_DEGRADED_MS = 15 * 60_000;
/** A storage sync failing for this long makes the service degraded (component `storage-sync`). */
export const STORAGE_SYNC_DEGRADED_AFTER_MS = 5000;

/** The readdb follower's state, as a health reason of the component `follower`. */
export function reportFollower(health: ServiceHealth, status: FollowStatus): void {
  switch (status.state) {
    case 'following':
      health.report('follower', undefined);
      return;
    case 'retrying':
      health.report(
        'follower',
        healthProblemOf(
          status.error,
          `the readdb follower failed (attempt ${status.attempt}, retrying in ${status.delayMs} ms)`,
        ),
      );
      return;
    case 'failed':
      health.report('follower', {
        code: DataManagerErrorCodes.SinkApply,
        message: `the readdb follower stopped: ${status.error.message}`,
      });
      return;
    case 'syncing':
      // catching up: the previous reason (if any) stands until it is caught up or fails
      return;
  }
}

/** Lost wals keep the health degraded (component `datamanager`) for {@link WALS_LOST_DEGRADED_MS}. */
export function reportWalsLost(health: ServiceHealth, lost: LostWals): void {
  health.report(
    'datamanager',
    {
      code: DataManagerErrorCodes.WalsLost,
      message: `${lost.count} acknowledged wal(s) lost, from ${lost.from} to ${lost.to}: etcd lost them before they reached the object storage`,
    },
    { forMs: WALS_LOST_DEGRADED_MS },
  );
}

/**
 * Reports the datamanager's storage sync as the health component `storage-sync`: degraded
 * once it has been failing for {@link STORAGE_SYNC_DEGRADED_AFTER_MS} (writes are then held
 * only in etcd, and refused past the unsynced bound).
 */
export function reportStorageSync(health: ServiceHealth, dm: DataManager): void {
  const st = dm.storageSyncStatus();
  if (
    st.failingSince === undefined ||
    Date.now() - st.failingSince.getTime() < STORAGE_SYNC_DEGRADED_AFTER_MS
  ) {
    health.report('storage-sync', undefined);
    return;
  }
  health.report(
    'storage-sync',
    healthProblemOf(
      st.lastError,
      `the object storage sync has been failing since ${st.failingSince.toISOString()}; ${st.unsyncedWals} wals wait in etcd`,
    ),
  );
}

/**
 * Probes the object storage (a listing of `basePath`'s top level: no object there, so it is
 * cheap) every `intervalMs` until `signal` aborts, and reports it as the health component
 * `storage`. The first failure of a run is logged at warn level with its cause, the recovery
 * at info level.
 */
export async function probeStorage(
  ost: ObjectStorage,
  basePath: string,
  health: ServiceHealth,
  signal: AbortSignal,
  intervalMs: number,
  logger: ServiceLogger,
): Promise<void> {
  let failing = false;
  while (!signal.aborted) {
    try {
      for await (const _ of ost.list(`${basePath}/`, { signal })) break;
      health.report('storage', undefined);
      if (failing) logger.info('object storage reachable again');
      failing = false;
    } catch (err) {
      if (signal.aborted) return;
      health.report('storage', healthProblemOf(err, 'the object storage is unreachable'));
      if (!failing) logger.warn({ err }, 'object storage unreachable');
      failing = true;
    }
    await sleep(intervalMs, signal);
  }
}
