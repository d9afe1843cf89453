import { AgolaError } from './agola-error.js';
import { defaultCodeOfKind, kindOfStatus, type ApiErrorKind } from './api-error.js';
import { ErrorCodes } from './codes.js';

/** The parts of a remote API error response. */
export interface RemoteErrorInit {
  /** HTTP status of the response. */
  status: number;
  /** Kind derived from the status. */
  kind: ApiErrorKind;
  /** `code` from the body ('' when absent). */
  remoteCode: string;
  /** `message` from the body ('' when absent). */
  remoteMessage: string;
}

/**
 * An error answered by a remote Agola API: status, kind, code and message parsed from the
 * `{code, message}` body. Its `code` is the remote code, or the kind's default code
 * (`ERR_NOT_EXIST`...) when the remote sent none, so `is(err, 'ERR_NOT_EXIST')` holds for
 * local and remote not-exist errors alike. It is never forwarded to API callers as is:
 * services re-raise it as an {@link ApiError} when they choose to pass it through.
 *
 * Text: `remote error <kind>[ (code: c)][ (message: m)]`, as Agola prints it.
 */
export class RemoteError extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/errors:RemoteError');

  /** HTTP status of the response. */
  readonly status: number;
  /** Kind derived from the status (400 badrequest, 404 notexist, ...; others internal). */
  readonly kind: ApiErrorKind;
  /** The body's `code`, '' when the remote sent none. */
  readonly remoteCode: string;
  /** The body's `message`, '' when the remote sent none. */
  readonly remoteMessage: string;

  constructor(init: RemoteErrorInit, message?: string, code?: string) {
    super(message ?? remoteErrorText(init), {
      code: code ?? (init.remoteCode || defaultCodeOfKind(init.kind)),
      callerOf: RemoteError,
    });
    this.status = init.status;
    this.kind = init.kind;
    this.remoteCode = init.remoteCode;
    this.remoteMessage = init.remoteMessage;
  }
}

function remoteErrorText(init: RemoteErrorInit): string {
  let text = `remote error ${init.kind}`;
  if (init.remoteCode) text += ` (code: ${init.remoteCode})`;
  if (init.remoteMessage) text += ` (message: ${init.remoteMessage})`;
  return text;
}

/**
 * Builds the error of a response from its status and body text. A 2xx status gives
 * `undefined`. A body that is not a JSON object gives a RemoteError with code
 * `ERR_REMOTE_BAD_RESPONSE` and text `unknown api error (status N)`.
 */
export function parseRemoteError(status: number, bodyText: string): RemoteError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const kind = kindOfStatus(status);
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return new RemoteError(
      { status, kind, remoteCode: '', remoteMessage: '' },
      `unknown api error (status ${status})`,
      ErrorCodes.RemoteBadResponse,
    );
  }
  const { code, message } = body as { code?: unknown; message?: unknown };
  return new RemoteError({
    status,
    kind,
    remoteCode: typeof code === 'string' ? code : '',
    remoteMessage: typeof message === 'string' ? message : '',
  });
}

/**
 * Reads a fetch `Response` and returns its error, or `undefined` for a 2xx status. The body
 * of an error response is consumed; a 2xx body is left unread.
 *
 * @example
 * ```ts
 * const res = await fetch(url);
 * const err = await errorFromResponse(res);
 * if (err) throw err;
 * ```
 */
export async function errorFromResponse(res: Response): Promise<RemoteError | undefined> {
  if (res.status >= 200 && res.status < 300) return undefined;
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  return parseRemoteError(res.status, text);
}
