import { RemoteError, findCause, is } from '@agola-ts/errors';
import { GatewayClientErrorCodes } from '@agola-ts/gateway-client';

function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * Turns an error of the API client into a sentence a person understands: what went wrong
 * and, where there is one, what to do. The gateway's own message is kept (it names the
 * object), never a stack or a status code alone.
 */
export function describeError(err: unknown): string {
  const remote = findCause<RemoteError>(err, (e) => e instanceof RemoteError);
  if (remote) {
    const msg = sentence(remote.remoteMessage);
    const with_ = (lead: string, otherwise: string) => (msg ? `${lead}: ${msg}` : otherwise);
    switch (remote.status) {
      case 400:
        return with_('The server refused the request', 'The server refused the request.');
      case 401:
        return 'You are not logged in, or your session has expired. Please log in again.';
      case 403:
        return with_('You are not allowed to do this', 'You are not allowed to do this.');
      case 404:
        return with_('Not found', 'Not found. It may have been deleted, or the link is wrong.');
      default:
        if (remote.status >= 500) {
          return `${with_('The server failed to answer', 'The server failed to answer.')} Try again in a moment.`;
        }
        return with_(
          `The server answered with an error (status ${remote.status})`,
          `The server answered with an error (status ${remote.status}).`,
        );
    }
  }
  if (
    is(err, GatewayClientErrorCodes.Unreachable) ||
    is(err, GatewayClientErrorCodes.ConnectionLost)
  )
    return 'The Agola server cannot be reached. Check your connection and try again.';
  if (is(err, GatewayClientErrorCodes.Timeout))
    return 'The Agola server took too long to answer. Try again in a moment.';
  if (is(err, GatewayClientErrorCodes.Aborted)) return 'The request was cancelled.';
  if (is(err, GatewayClientErrorCodes.BadResponse))
    return 'The server sent an answer this page cannot read. Reload the page; if it persists, the server may be a different version.';
  if (err instanceof TypeError)
    return 'The Agola server cannot be reached. Check your connection and try again.';
  if (err instanceof Error && err.message) return sentence(err.message);
  return 'Something went wrong.';
}
