/**
 * Joins an executor's listen URL and an API path. Trailing slashes of the listen URL are
 * dropped without a regex (`/\/+$/` is super-linear on long runs of slashes).
 */
export function executorUrl(listenURL: string, path: string): string {
  let end = listenURL.length;
  while (end > 0 && listenURL.charCodeAt(end - 1) === 0x2f) end--;
  return `${listenURL.slice(0, end)}${path}`;
}
