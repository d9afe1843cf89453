import { onBeforeUnmount, ref, shallowRef, watch, type Ref, type WatchSource } from 'vue';

/** The state of a page's data load. */
export interface Load<T> {
  data: Ref<T | undefined>;
  error: Ref<unknown>;
  loading: Ref<boolean>;
  /** Loads again (keeps the shown data until the answer). */
  reload: () => Promise<void>;
}

/**
 * Loads a page's data with `fn`, again when `source` changes; a newer load cancels the
 * older one, and leaving the page cancels the one in flight.
 */
export function useLoad<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  source?: WatchSource<unknown>,
): Load<T> {
  const data = shallowRef<T>();
  const error = ref<unknown>();
  const loading = ref(false);
  let current: AbortController | undefined;
  const reload = async () => {
    current?.abort();
    const ctl = new AbortController();
    current = ctl;
    loading.value = true;
    try {
      const value = await fn(ctl.signal);
      if (ctl.signal.aborted) return;
      data.value = value;
      error.value = undefined;
    } catch (err) {
      if (!ctl.signal.aborted) error.value = err;
    } finally {
      if (current === ctl) loading.value = false;
    }
  };
  if (source) watch(source, () => void reload(), { immediate: true });
  else void reload();
  onBeforeUnmount(() => current?.abort());
  return { data, error, loading, reload };
}
