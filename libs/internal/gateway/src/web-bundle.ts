import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { wrap } from '@agola-ts/errors';
import { API_PREFIX } from '@agola-ts/service-kit';
import { GatewayErrorCodes } from './codes.js';

/** Options of {@link loadWebBundle}. */
export interface WebBundleOptions {
  /** The directory of the built web UI (with `index.html`, hashed files under `assets/`). */
  bundlePath: string;
  /** The URL the browser reaches the API at (`window.CONFIG.API_URL`): `apiExposedURL`. */
  apiURL: string;
}

/** Paths that are never pages of the UI: a miss there is a plain 404, not `index.html`. */
const NOT_PAGES = ['/api/', '/repos/', '/webhooks', '/badges'];

/** Extensions of files: a missing one is a 404 (a page path such as `/org/a/projects/p.proj` is not). */
const TYPES = new Map<string, string>([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
  ['.webmanifest', 'application/manifest+json'],
]);

/** Hashed build output (Vite's `assets/`) never changes under its name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_CACHE = 'no-cache';

/**
 * The bundle-relative segments of a URL path, or undefined when a segment is not a plain
 * name (`..`, `.`, an encoded `/` or `\`, a NUL, bad percent-encoding): such a path is
 * refused, whatever is on disk.
 */
export function bundleSegments(urlPath: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) return undefined;
    out.push(seg);
  }
  return out;
}

/** The text of `/config.js`, as Agola's gateway writes it. */
export function configScript(apiURL: string): string {
  // JSON inside a script: `<` escaped so no value can close a script tag
  const json = JSON.stringify({ API_URL: apiURL, API_BASE_PATH: API_PREFIX }).replace(
    /</g,
    '\\u003c',
  );
  return `window.CONFIG = ${json};\n`;
}

/** A loaded web bundle, ready to be served by a fastify server. */
export interface WebBundle {
  /** The bundle directory (its real path). */
  readonly root: string;
  /** Adds the bundle's routes (`GET /config.js`, `GET /`) and its pages hook to a server. */
  register(server: FastifyInstance): void;
}

/**
 * Loads the web UI's built bundle, to serve: `GET /config.js` (`window.CONFIG = {API_URL,
 * API_BASE_PATH}`), the bundle's files (hashed `assets/` cached as immutable), and
 * `index.html` for every other page path (history routing), except under `/api/`,
 * `/repos/`, `/webhooks` and `/badges`, and for a missing file with a file extension, which
 * stay 404s. Paths with `..`, encoded slashes or NULs, and symlinks leading out of the
 * bundle, are refused.
 *
 * @throws `ERR_GATEWAY_INVALID_CONFIG` when the directory has no readable `index.html`.
 */
export async function loadWebBundle(options: WebBundleOptions): Promise<WebBundle> {
  let root: string;
  let indexHtml: Buffer;
  try {
    root = await realpath(options.bundlePath);
    indexHtml = await readFile(join(root, 'index.html'));
  } catch (err) {
    throw wrap(err, `gateway web.bundlePath ${JSON.stringify(options.bundlePath)}: no web bundle`, {
      code: GatewayErrorCodes.InvalidConfig,
    });
  }
  const script = configScript(options.apiURL);

  const sendIndex = (reply: FastifyReply) =>
    reply
      .code(200)
      .header('cache-control', NO_CACHE)
      .header('x-content-type-options', 'nosniff')
      .type('text/html; charset=utf-8')
      .send(indexHtml);

  const register = (server: FastifyInstance) => {
    server.get('/config.js', async (_req, reply) =>
      reply.header('cache-control', NO_CACHE).type('text/javascript; charset=utf-8').send(script),
    );

    /** The file a path names inside the bundle, or undefined (missing, a directory, outside). */
    const fileOf = async (segments: string[]): Promise<string | undefined> => {
      if (segments.length === 0) return undefined;
      try {
        // a symlink may point anywhere: the real path must stay inside the bundle
        const real = await realpath(join(root, ...segments));
        if (!real.startsWith(root + sep)) return undefined;
        return (await stat(real)).isFile() ? real : undefined;
      } catch {
        return undefined;
      }
    };

    // Pages are the paths no route claims: served from the not-found path (a catch-all route
    // would turn every other method on an unknown path into a 405).
    server.get('/', async (_req, reply) => sendIndex(reply));
    server.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!req.is404 || (req.method !== 'GET' && req.method !== 'HEAD')) return;
      const q = req.url.indexOf('?');
      const path = q === -1 ? req.url : req.url.slice(0, q);
      if (NOT_PAGES.some((p) => path === p.replace(/\/$/, '') || path.startsWith(p))) return;
      const segments = bundleSegments(path);
      if (!segments) {
        return reply.code(400).type('application/json; charset=utf-8').send({
          code: GatewayErrorCodes.InvalidRequest,
          message: 'invalid path',
        });
      }
      const file = await fileOf(segments);
      if (file === join(root, 'index.html')) return sendIndex(reply);
      if (file === undefined) {
        const last = segments.at(-1) ?? '';
        // a missing file stays a 404 (a script tag must not get HTML)
        if (segments[0] === 'assets' || TYPES.has(extname(last).toLowerCase())) return;
        return sendIndex(reply);
      }
      const type = TYPES.get(extname(file).toLowerCase()) ?? 'application/octet-stream';
      return reply
        .code(200)
        .header('cache-control', segments[0] === 'assets' ? IMMUTABLE : NO_CACHE)
        .header('x-content-type-options', 'nosniff')
        .type(type)
        .send(createReadStream(file));
    });
  };
  return { root, register };
}
