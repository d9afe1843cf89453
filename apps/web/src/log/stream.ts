/**
 * Feeding a {@link LogModel} from the gateway's log stream (`GatewayClient.getLogs`, an async
 * iterable of byte chunks): the model ends when the stream ends (with `follow`, when the step
 * ends), and stays open when the stream is cancelled or breaks, so it can be fetched again.
 */
import type { LogModel } from './log-model.js';

/** Options of {@link streamInto}. */
export interface StreamOptions {
  /** Chunks longer than this (bytes or characters) are fed in slices, yielding between them. @default 65536 */
  sliceSize?: number;
}

/** Lets the browser draw a frame and handle input (a macrotask; `setTimeout` is clamped less than rAF in background tabs). */
function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** How a stream ended. */
export type StreamEnd = 'ended' | 'aborted';

/**
 * Pushes every chunk of `chunks` into `model` (a big one in slices, letting the page draw in
 * between), then ends it. Returns `'aborted'` (the model
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
  options: StreamOptions = {},
): Promise<StreamEnd> {
  const slice = Math.max(1, options.sliceSize ?? 64 * 1024);
  try {
    for await (const chunk of chunks) {
      if (signal?.aborted) return 'aborted';
      // a big chunk (a finished log arrives in large reads) is parsed in slices with a
      // yield between them, so the page keeps drawing frames
      for (let at = 0; at < chunk.length; at += slice) {
        if (at > 0) {
          await yieldToBrowser();
          if (signal?.aborted) return 'aborted';
        }
        model.push(chunk.length <= slice ? chunk : chunk.slice(at, at + slice));
      }
    }
  } catch (err) {
    if (signal?.aborted) return 'aborted';
    throw err;
  }
  if (signal?.aborted) return 'aborted';
  model.end();
  return 'ended';
}
