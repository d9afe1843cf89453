import type { HostPort } from '@agola-ts/service-kit';

/** How login JWTs are signed: HS256 with a shared key, or RS256 with a PEM key pair. */
export type TokenSigningConfig =
  | {
      method: 'hmac';
      /** The HMAC key. */
      key: string;
      /** How long a login JWT is valid, in ms. @default 12 h */
      durationMs?: number;
    }
  | {
      method: 'rsa';
      /** The PEM private key file (signs). */
      privateKeyPath: string;
      /** The PEM public key file (verifies). */
      publicKeyPath: string;
      /** How long a login JWT is valid, in ms. @default 12 h */
      durationMs?: number;
    };

/**
 * The gateway's config: the `gateway` section of Agola's config file (§1.3 of the
 * reference), with durations in ms.
 */
export interface GatewayConfig {
  /** The installation id (names the forge token `agola-<id>`, webhook `agolaid`). @default 'agola' */
  id?: string;
  /** The URL the API is reachable at (webhooks point at `<apiExposedURL>/webhooks`). */
  apiExposedURL: string;
  /** The URL of the web UI (OAuth2 callback `<webExposedURL>/oauth2/callback`, run links). */
  webExposedURL: string;
  /** The runservice API base URL, without the prefix (`http://127.0.0.1:4000`). */
  runserviceURL: string;
  /** The configstore API base URL, without the prefix (`http://127.0.0.1:4002`). */
  configstoreURL: string;
  /** The git server URL (`/repos/*` is proxied there). */
  gitserverURL?: string;
  /** Where to listen, and the CORS origins (no CORS when empty). */
  web: { listen: HostPort; allowedOrigins?: string[] };
  /** Login JWT signing. */
  tokenSigning: TokenSigningConfig;
  /** A static token that grants admin (`Authorization: token <adminToken>`). */
  adminToken?: string;
}

/** The default validity of a login JWT: 12 hours. */
export const DEFAULT_TOKEN_DURATION_MS = 12 * 60 * 60 * 1000;
/** The default installation id. */
export const DEFAULT_AGOLA_ID = 'agola';
