/** What the gateway's `/config.js` sets: `window.CONFIG = { API_URL, API_BASE_PATH }`. */
export interface WebConfig {
  /** The gateway's URL (the API is at `API_URL + API_BASE_PATH`). */
  API_URL: string;
  /** The API prefix: `/api/v1alpha`. */
  API_BASE_PATH: string;
}

declare global {
  interface Window {
    CONFIG?: Partial<WebConfig>;
  }
}

/** The config the gateway wrote, with the page's own origin when it wrote none. */
export function webConfig(): WebConfig {
  const c = typeof window !== 'undefined' ? window.CONFIG : undefined;
  const origin = typeof location !== 'undefined' ? location.origin : 'http://localhost';
  return {
    API_URL: typeof c?.API_URL === 'string' && c.API_URL !== '' ? c.API_URL : origin,
    API_BASE_PATH:
      typeof c?.API_BASE_PATH === 'string' && c.API_BASE_PATH !== ''
        ? c.API_BASE_PATH
        : '/api/v1alpha',
  };
}
