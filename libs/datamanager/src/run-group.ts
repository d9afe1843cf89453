import { toError } from '@agola-ts/errors';

/**
 * Runs tasks concurrently with one shared signal, like Go's errgroup: the first task to fail
 * aborts the signal of every other task, and the group rejects with that first error once
 * all tasks have settled. A task that fails after another one never blocks: errors are kept,
 * not sent anywhere (Agola once deadlocked on a handler writing its error to a channel that
 * nobody read any more).
 *
 * @example
 * ```ts
 * await runGroup(signal, [
 *   (s) => watchMaintenanceKey(s),
 *   (s) => serve(s),
 * ]);
 * ```
 */
export async function runGroup(
  parent: AbortSignal | undefined,
  tasks: Array<(signal: AbortSignal) => Promise<unknown>>,
): Promise<void> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  let first: Error | undefined;
  try {
    await Promise.all(
      tasks.map(async (task) => {
        try {
          await task(controller.signal);
        } catch (err) {
          if (!first) {
            first = toError(err);
            controller.abort(first);
          }
        }
      }),
    );
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (first) throw first;
}
