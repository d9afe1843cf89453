import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header a request id is read from and echoed in. */
export const REQUEST_ID_HEADER = 'x-request-id';

// A caller's id is kept only when it is short and printable, so logs cannot be polluted.
const VALID_ID = /^[\w.:@/+=-]{1,128}$/;

/** The request id of an incoming request: the caller's `x-request-id` if valid, else a UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const header = req.headers[REQUEST_ID_HEADER];
  const id = Array.isArray(header) ? header[0] : header;
  return id !== undefined && VALID_ID.test(id) ? id : randomUUID();
}
