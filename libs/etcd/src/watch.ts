import { wrap } from '@agola-ts/errors';
import type { IWatchResponse } from 'etcd3';
import type { EtcdClient } from './client.js';
import { EtcdErrorCodes } from './codes.js';
import { isCompactedMessage, wrapEtcdError } from './etcd-error.js';
import type { KeyValue } from './key-value.js';
import { toBigInt } from './revision.js';

/** Options of {@link EtcdClient.watch}. */
export interface WatchOptions {
  /** First revision to deliver (usually the revision of a list + 1). */
  startRevision: bigint;
  /** Cancels the watch; the loop then ends without an error. */
  signal?: AbortSignal;
  /**
   * Deliver every response that is already waiting as one (events in order, the last
   * revision): a consumer that falls behind catches up in fewer, larger steps.
   * @default false
   */
  coalesce?: boolean;
}

/** One event of a watch. */
export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key, with `modRevision` = the delete's revision and an empty value. */
  kv: KeyValue;
}

/** One etcd watch response: the events of one or more revisions, delivered together. */
export interface WatchResponse {
  /** Store revision when the response was sent (>= every event's revision). */
  revision: bigint;
  events: WatchEvent[];
}

type Item = { response: WatchResponse } | { error: unknown } | { end: true };

/** @internal implementation of {@link EtcdClient.watch} */
export async function* watchPrefix(
  client: EtcdClient,
  prefix: string,
  options: WatchOptions,
): AsyncGenerator<WatchResponse> {
  const { signal } = options;
  if (signal?.aborted) return;
  const queue: Item[] = [];
  let wake: (() => void) | undefined;
  const push = (item: Item) => {
    queue.push(item);
    wake?.();
  };
  // The revision from which a resumed watch would start: used to tell compaction apart.
  let nextRevision = options.startRevision;

  let watcher;
  try {
    watcher = await client.raw
      .watch()
      .prefix(client.fullKey(prefix))
      .startRevision(options.startRevision.toString())
      .create();
  } catch (err) {
    throw wrapEtcdError(err, `etcd watch ${client.prefix}${prefix}`);
  }
  const onAbort = () => push({ end: true });
  signal?.addEventListener('abort', onAbort, { once: true });
  // aborted while the watch was being created: the listener above will never fire
  if (signal?.aborted) onAbort();
  watcher.on('data', (res: IWatchResponse) => {
    const events: WatchEvent[] = res.events.map((e) => ({
      type: e.type === 'Put' ? 'put' : 'delete',
      kv: client.toKeyValue(e.kv),
    }));
    const revision = toBigInt(res.header.revision);
    nextRevision = revision + 1n;
    push({ response: { revision, events } });
  });
  // A dropped stream ends this watch (the caller watches again from its last revision and
  // so notices an etcd that was reset meanwhile) instead of being resumed silently.
  watcher.on('disconnected', (err: Error) =>
    push({
      error: wrap(err, `etcd watch ${client.prefix}${prefix} disconnected`, {
        code: EtcdErrorCodes.Unavailable,
      }),
    }),
  );
  // etcd canceled the watch itself (compaction): etcd3 has already dropped the watcher, and
  // cancelling it again would wait forever for an answer that never comes
  let canceledByServer = false;
  watcher.on('error', (err: Error) => {
    canceledByServer = true;
    push({ error: err });
  });

  try {
    for (;;) {
      while (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const item = queue.shift()!;
      if ('end' in item) return;
      if ('error' in item) throw await classifyWatchError(client, prefix, item.error, nextRevision);
      let response = item.response;
      while (options.coalesce && queue[0] && 'response' in queue[0]) {
        const more = (queue.shift() as { response: WatchResponse }).response;
        response = { revision: more.revision, events: [...response.events, ...more.events] };
      }
      yield response;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher.removeAllListeners();
    // cancel() can fail when the connection is already gone: nothing left to cancel then.
    if (!canceledByServer) await watcher.cancel().catch(() => undefined);
  }
}

/**
 * etcd cancels a watch whose start revision was compacted, but the etcd3 package reports
 * only "Watcher canceled" without the reason: a read at the revision tells compaction apart.
 */
async function classifyWatchError(
  client: EtcdClient,
  prefix: string,
  err: unknown,
  nextRevision: bigint,
): Promise<unknown> {
  if (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    err.code.startsWith('ERR_')
  ) {
    return err;
  }
  if (isCompactedMessage(err)) return compacted(client, prefix, nextRevision, err);
  try {
    await client.raw.kv.range({ key: client.fullKey(prefix), revision: nextRevision.toString() });
  } catch (probeErr) {
    if (isCompactedMessage(probeErr)) return compacted(client, prefix, nextRevision, err);
  }
  return wrapEtcdError(err, `etcd watch ${client.prefix}${prefix}`);
}

function compacted(client: EtcdClient, prefix: string, revision: bigint, cause: unknown) {
  return wrap(
    cause,
    `etcd watch ${client.prefix}${prefix}: revision ${revision} has been compacted`,
    {
      code: EtcdErrorCodes.Compacted,
    },
  );
}
