/** The thread pool size `agola serve` uses unless `UV_THREADPOOL_SIZE` is set. */
export const SERVE_THREADPOOL_SIZE = 16;

/**
 * The `UV_THREADPOOL_SIZE` to set for a command line, or undefined to leave it: only for
 * `serve` (the first argument that is not an option), and never over the user's own value.
 * The pool runs the sqlite statements of every readdb and the fsyncs of the posix object
 * storage: node's default of 4 threads makes them queue behind each other.
 *
 * @example
 * ```ts
 * threadPoolSizeFor(['serve', '--config', 'c.yml'], {}); // '16'
 * threadPoolSizeFor(['serve'], { UV_THREADPOOL_SIZE: '8' }); // undefined
 * ```
 */
export function threadPoolSizeFor(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const own = env['UV_THREADPOOL_SIZE'];
  if (own !== undefined && own !== '') return undefined;
  const command = args.find((a) => !a.startsWith('-'));
  return command === 'serve' ? String(SERVE_THREADPOOL_SIZE) : undefined;
}
