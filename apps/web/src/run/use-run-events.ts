import { onBeforeUnmount, ref, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import { RemoteError } from '@agola-ts/errors';
import type { RunEvent, RunOwner } from '@agola-ts/gateway-client';
import { api } from '../api.js';

/** The state of a page's run events stream. */
export interface RunEventsState {
  /** True while the stream is open: every run change reaches the page. */
  live: Ref<boolean>;
  /** Refreshes the page made because of an event (shown to tests as `data-event-refreshes`). */
  eventRefreshes: Ref<number>;
}

/** First wait before opening the stream again; doubled each time, up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 60_000;

/**
 * Listens to the gateway's run events of `owner` (`GET /runs/events`) while the page is
 * shown: `onOpen` runs when the stream opens (catch up on what happened before), `onEvent` on
 * each event for which `wanted(event)` holds (the page then refreshes, counted in
 * `eventRefreshes`). When the stream fails or ends it is opened again with a backoff; a gateway
 * without the route (Agola's: 404) or a caller it refuses is not asked again. The page keeps
 * its poll as the safety net, slower while `live`.
 */
export function useRunEvents(
  owner: MaybeRefOrGetter<RunOwner | undefined>,
  handlers: {
    wanted: (event: RunEvent) => boolean;
    refresh: () => void;
  },
): RunEventsState {
  const live = ref(false);
  const eventRefreshes = ref(0);
  let ctl: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = () => {
    ctl?.abort();
    ctl = undefined;
    clearTimeout(timer);
    live.value = false;
  };

  const listen = async (o: RunOwner, signal: AbortSignal, retryMs: number) => {
    let opened = false;
    try {
      for await (const ev of api.runEvents(o, {
        signal,
        onOpen: () => {
          opened = true;
          live.value = true;
          // what changed before the stream opened
          handlers.refresh();
        },
      })) {
        if (!handlers.wanted(ev)) continue;
        eventRefreshes.value++;
        handlers.refresh();
      }
    } catch (err) {
      // no such route (an Agola gateway), or not allowed: polling only
      if (err instanceof RemoteError && err.status >= 400 && err.status < 500) {
        live.value = false;
        return;
      }
    }
    if (signal.aborted) return;
    live.value = false;
    const next = opened ? FIRST_RETRY_MS : Math.min(retryMs * 2, MAX_RETRY_MS);
    timer = setTimeout(() => void listen(o, signal, next), opened ? FIRST_RETRY_MS : retryMs);
  };

  // the same owner (a new object of equal value) keeps its stream
  watch(
    () => {
      const o = toValue(owner);
      return o ? `${o.kind}\n${o.ref}` : '';
    },
    () => {
      stop();
      const o = toValue(owner);
      if (!o) return;
      const c = new AbortController();
      ctl = c;
      void listen(o, c.signal, FIRST_RETRY_MS);
    },
    { immediate: true },
  );
  onBeforeUnmount(stop);
  return { live, eventRefreshes };
}
