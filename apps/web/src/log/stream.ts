/**
 * Feeding a {@link LogModel} from the gateway's log stream (`GatewayClient.getLogs`, an async
 * iterable of byte chunks): the model ends when the stream ends (with `follow`, when the step
 * ends), and stays open when the stream is cancelled or breaks, so it can be fetched again.
 */
import type { LogModel } from './log-model.js';

/** How a stream ended. */
export type StreamEnd = 'ended' | 'aborted';

/**
 * Pushes every chunk of `chunks` into `model`, then ends it. Returns `'aborted'` (the model
 * left open) when `signal` aborted; rethrows a stream error (the model left open, holding
 * what arrived).
 *
 * @example
 * ```ts
 * const chunks = await api.getLogs(owner, n, taskId, { step: 0, follow: true }, { signal });
 * await streamInto(model, chunks, signal);
 * ```
 */
export async function streamInto(
  model: LogModel,
  chunks: AsyncIterable<Uint8Array | string>,
  signal?: AbortSignal,
): Promise<StreamEnd> {
  try {
    for await (const chunk of chunks) {
      if (signal?.aborted) return 'aborted';
      model.push(chunk);
    }
  } catch (err) {
    if (signal?.aborted) return 'aborted';
    throw err;
  }
  if (signal?.aborted) return 'aborted';
  model.end();
  return 'ended';
}
