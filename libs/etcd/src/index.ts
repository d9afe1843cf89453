export { EtcdClient, createEtcdClient } from './client.js';
export type {
  EtcdClientOptions,
  TxnResult,
  TxnResponse,
  RangeResult,
  ListOptions,
} from './client.js';
export type { KeyValue } from './key-value.js';
export { cmpModRevision, cmpCreateRevision, cmpVersion, opPut, opDelete, opGet } from './ops.js';
export type { Compare, CompareTarget, CompareOperator, Op } from './ops.js';
export type { WatchOptions, WatchEvent, WatchResponse } from './watch.js';
export { EtcdSession } from './session.js';
export { EtcdMutex } from './mutex.js';
export { Sequence, incSequence, sequenceEpoch } from './sequence.js';
export type { IncSequenceOptions } from './sequence.js';
export { runCompactor, sleep } from './compactor.js';
export type { CompactorOptions } from './compactor.js';
export type { Logger } from './logger.js';
export { toBigInt } from './revision.js';
export { prefixEnd } from './range-end.js';
export { EtcdErrorCodes } from './codes.js';
