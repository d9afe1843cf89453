/** One Server-Sent Events message: its `event` name (`message` when none) and its data. */
export interface SseMessage {
  /** The `event:` field, `message` when the message has none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/** An incremental Server-Sent Events parser: feed it text as it arrives, cut anywhere. */
export interface SseParser {
  /** Parses more text (any cut: mid-line, mid-`\r\n`) and returns the messages it completes. */
  push(text: string): SseMessage[];
}

/**
 * Creates an {@link SseParser} (the event stream format of the HTML standard: `data:`,
 * `event:`, comments, LF / CRLF / CR line ends; `id:` and `retry:` are ignored). A message
 * with no `data:` line is not dispatched.
 *
 * @example
 * ```ts
 * const parser = createSseParser();
 * parser.push('data: {"a"'); // []
 * parser.push(':1}\n\n'); // [{ event: 'message', data: '{"a":1}' }]
 * ```
 */
export function createSseParser(): SseParser {
  let buf = '';
  // a chunk that ended on `\r` may continue with the `\n` of the same line end
  let skipLf = false;
  let event = '';
  let data: string[] = [];
  let hasData = false;
  const line = (l: string, out: SseMessage[]) => {
    if (l === '') {
      if (hasData) out.push({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      hasData = false;
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data.push(value);
      hasData = true;
    } else if (field === 'event') {
      event = value;
    }
  };
  return {
    push(text) {
      const out: SseMessage[] = [];
      buf += text;
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c === 10 && skipLf && i === start) {
          skipLf = false;
          start = i + 1;
          continue;
        }
        skipLf = false;
        if (c === 10 || c === 13) {
          line(buf.slice(start, i), out);
          if (c === 13) {
            if (i + 1 < buf.length) {
              if (buf.charCodeAt(i + 1) === 10) i++;
            } else {
              skipLf = true;
            }
          }
          start = i + 1;
        }
      }
      buf = buf.slice(start);
      return out;
    },
  };
}
