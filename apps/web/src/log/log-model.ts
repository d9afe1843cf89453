/**
 * The lines of a step's log, fed incrementally from its byte stream: UTF-8 decoded across
 * chunk boundaries, split on `\n` (and `\r\n`), a lone `\r` rewriting the current line (as
 * progress bars use it; the line is replaced, not overwritten column by column), ANSI styles
 * parsed once per line and carried from line to line.
 */
import { DEFAULT_STYLE, parseAnsi, type AnsiSpan, type AnsiStyle } from './ansi.js';

/** One parsed line. */
export interface LogLine {
  spans: AnsiSpan[];
  /** Visible characters (escapes excluded). */
  length: number;
}

/** Options of {@link LogModel}. */
export interface LogModelOptions {
  /**
   * A line longer than this (raw characters) is broken into several, so one endless line
   * cannot grow without bound. @default 20000
   */
  maxLineLength?: number;
}

const EMPTY_LINE: LogLine = Object.freeze({ spans: [], length: 0 }) as LogLine;

/**
 * A growing log. `push()` chunks as they arrive, `end()` when the stream ends; read with
 * `lineCount` and `line(i)` (the last line may be the partial one still growing), and
 * `subscribe()` to hear about changes (one call per push, not per line).
 *
 * @example
 * ```ts
 * const log = new LogModel();
 * for await (const chunk of await gw.getLogs(owner, n, taskId, { step: 1, follow: true })) log.push(chunk);
 * log.end();
 * ```
 */
export class LogModel {
  /** Completed lines. */
  readonly lines: LogLine[] = [];
  /** The longest line seen, in visible characters (for the width of the view). */
  maxLength = 0;
  /** The stream has ended. */
  ended = false;
  /** Grows on every change. */
  version = 0;

  private readonly maxLineLength: number;
  private decoder = new TextDecoder('utf-8');
  private partial = '';
  private partialCache: { version: number; line: LogLine } | null = null;
  /** The style at the start of the partial line. */
  private style: Readonly<AnsiStyle> = DEFAULT_STYLE;
  /** The previous chunk ended with `\r`: a `\n` first in the next one makes it a CRLF. */
  private pendingCr = false;
  private readonly listeners = new Set<() => void>();

  constructor(options: LogModelOptions = {}) {
    this.maxLineLength = Math.max(1, options.maxLineLength ?? 20000);
  }

  /** Lines to show: the completed ones and the partial one, if it has text. */
  get lineCount(): number {
    return this.lines.length + (this.partial ? 1 : 0);
  }

  /** Line `i` (0-based); the partial line is parsed on demand and cached until it changes. */
  line(i: number): LogLine {
    if (i < this.lines.length) return this.lines[i] as LogLine;
    if (i !== this.lines.length || !this.partial) return EMPTY_LINE;
    if (this.partialCache?.version !== this.version) {
      this.partialCache = { version: this.version, line: toLine(this.partial, this.style).line };
    }
    return this.partialCache.line;
  }

  /** Whether line `i` may still change (it is the partial line). */
  isPartial(i: number): boolean {
    return i === this.lines.length && this.partial !== '';
  }

  /** Adds a chunk of the stream (bytes, or already decoded text). */
  push(chunk: Uint8Array | string): void {
    if (this.ended) return;
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!text) return;
    this.feed(text);
    this.changed();
  }

  /** The stream has ended: the partial line (if any) becomes a line. */
  end(): void {
    if (this.ended) return;
    const rest = this.decoder.decode();
    if (rest) this.feed(rest);
    this.pendingCr = false;
    if (this.partial) this.completeLine();
    this.ended = true;
    this.changed();
  }

  /** Empties the log (before fetching it again from the start). */
  clear(): void {
    this.lines.length = 0;
    this.maxLength = 0;
    this.ended = false;
    this.partial = '';
    this.partialCache = null;
    this.style = DEFAULT_STYLE;
    this.pendingCr = false;
    this.decoder = new TextDecoder('utf-8');
    this.changed();
  }

  /** The visible text of every line (for copying, and for tests). */
  text(): string {
    const out: string[] = [];
    for (let i = 0; i < this.lineCount; i++) out.push(lineText(this.line(i)));
    return out.join('\n');
  }

  /** Calls `listener` after each change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  private feed(text: string): void {
    let pos = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) !== 0x0a) this.carriageReturn();
    }
    const n = text.length;
    // next positions of each separator, searched again only once passed (linear overall)
    let nl = text.indexOf('\n');
    let cr = text.indexOf('\r');
    while (pos < n) {
      if (nl !== -1 && nl < pos) nl = text.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        this.append(text.slice(pos, cr));
        pos = cr + 1;
        if (pos === n) this.pendingCr = true;
        else if (text.charCodeAt(pos) !== 0x0a) this.carriageReturn();
        continue;
      }
      if (nl === -1) {
        this.append(text.slice(pos));
        break;
      }
      this.append(text.slice(pos, nl));
      this.completeLine();
      pos = nl + 1;
    }
  }

  private append(s: string): void {
    if (!s) return;
    this.partial += s;
    while (this.partial.length > this.maxLineLength) {
      const rest = this.partial.slice(this.maxLineLength);
      this.partial = this.partial.slice(0, this.maxLineLength);
      this.completeLine();
      this.partial = rest;
    }
  }

  private completeLine(): void {
    const { line, style } = toLine(this.partial, this.style);
    this.lines.push(line);
    if (line.length > this.maxLength) this.maxLength = line.length;
    this.style = style;
    this.partial = '';
  }

  /** `\r`: the line starts again; the styles set by the text dropped stay in force. */
  private carriageReturn(): void {
    if (this.partial) this.style = parseAnsi(this.partial, this.style).style;
    this.partial = '';
  }
}

function toLine(
  raw: string,
  style: Readonly<AnsiStyle>,
): { line: LogLine; style: Readonly<AnsiStyle> } {
  const parsed = parseAnsi(raw, style);
  let length = 0;
  for (const s of parsed.spans) length += s.text.length;
  return { line: { spans: parsed.spans, length }, style: parsed.style };
}

/** The visible text of a line. */
export function lineText(line: LogLine): string {
  let s = '';
  for (const span of line.spans) s += span.text;
  return s;
}
