import { onBeforeUnmount, watch, type Ref } from 'vue';

/**
 * Calls `reload` again `intervalMs` after each answer while `active()` says the data can
 * still change (a run not finished), and after `errorIntervalMs` when the last load failed;
 * stops when the page goes away. `intervalMs` may be a function (a slower poll while a live
 * stream keeps the page up to date).
 */
export function usePolling(
  data: Ref<unknown>,
  error: Ref<unknown>,
  reload: () => Promise<void>,
  active: () => boolean,
  intervalMs: number | (() => number) = 2000,
  errorIntervalMs = 5000,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const next = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => void reload(), ms);
  };
  watch(data, () => {
    if (active()) next(typeof intervalMs === 'function' ? intervalMs() : intervalMs);
    else clearTimeout(timer);
  });
  watch(error, (e) => {
    if (e !== undefined && active()) next(errorIntervalMs);
  });
  onBeforeUnmount(() => {
    stopped = true;
    clearTimeout(timer);
  });
}
