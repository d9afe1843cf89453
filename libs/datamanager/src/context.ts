import type { EtcdClient, Logger } from '@agola-ts/etcd';
import type { ObjectStorage } from '@agola-ts/ost';
import type { ResolvedOptions } from './options.js';

/** What every part of a datamanager instance shares. */
export interface DataManagerContext {
  /** etcd client under `<service>/datamanager/`. */
  etcd: EtcdClient;
  /** The object storage under the base path. */
  ost: ObjectStorage;
  options: ResolvedOptions;
  logger: Logger;
}

/** A logger that drops everything (libraries are silent unless given one). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
