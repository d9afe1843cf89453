import { createHmac, createSign, createVerify, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The claims the gateway puts in its JWTs (login tokens, OAuth2 state). */
export type JwtClaims = Record<string, unknown> & { exp?: number; sub?: string };

/** Signs and verifies compact JWS tokens (HS256 or RS256). */
export interface JwtSigner {
  /** The JWS algorithm (`HS256` or `RS256`). */
  readonly alg: 'HS256' | 'RS256';
  /** A signed token holding `claims`. */
  sign(claims: JwtClaims): string;
  /**
   * The claims of a token signed by this signer and not expired, else `undefined` (wrong
   * algorithm, bad signature, malformed, expired at `nowSec`).
   */
  verify(token: string, nowSec?: number): JwtClaims | undefined;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Largest token accepted for verification (a JWT of the gateway is far smaller). */
const MAX_TOKEN_LENGTH = 8192;

function splitToken(token: string): [string, string, string] | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (h === '' || p === '' || s === '') return undefined;
  return [h, p, s];
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A JWT signer: HS256 with `key`, or RS256 with a private key (sign) and a public key
 * (verify). Verification checks the header's `alg` equals the signer's (no `none`, no
 * algorithm switch) and `exp` when present.
 *
 * @example
 * ```ts
 * const jwt = createJwtSigner({ alg: 'HS256', key: 'secret' });
 * const token = jwt.sign({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 });
 * jwt.verify(token)?.sub; // userId
 * ```
 */
export function createJwtSigner(
  options:
    | { alg: 'HS256'; key: string | Buffer }
    | { alg: 'RS256'; privateKey: KeyObject | string; publicKey: KeyObject | string },
): JwtSigner {
  const header = b64url(JSON.stringify({ alg: options.alg, typ: 'JWT' }));
  const signature = (input: string): Buffer => {
    if (options.alg === 'HS256') return createHmac('sha256', options.key).update(input).digest();
    return createSign('RSA-SHA256').update(input).sign(options.privateKey);
  };
  const check = (input: string, sig: Buffer): boolean => {
    if (options.alg === 'HS256') {
      const want = createHmac('sha256', options.key).update(input).digest();
      return want.length === sig.length && timingSafeEqual(want, sig);
    }
    try {
      return createVerify('RSA-SHA256').update(input).verify(options.publicKey, sig);
    } catch {
      return false;
    }
  };
  return {
    alg: options.alg,
    sign(claims) {
      const input = `${header}.${b64url(JSON.stringify(claims))}`;
      return `${input}.${b64url(signature(input))}`;
    },
    verify(token, nowSec = Math.floor(Date.now() / 1000)) {
      const parts = splitToken(token);
      if (!parts) return undefined;
      const [h, p, s] = parts;
      const head = decodeJson(h);
      if (!isObject(head) || head['alg'] !== options.alg) return undefined;
      if (!check(`${h}.${p}`, Buffer.from(s, 'base64url'))) return undefined;
      const claims = decodeJson(p);
      if (!isObject(claims)) return undefined;
      const exp = claims['exp'];
      if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSec)) return undefined;
      return claims as JwtClaims;
    },
  };
}
