import { fileURLToPath } from 'node:url';
import { relative, isAbsolute, sep } from 'node:path';

/** Where an error was created or wrapped: one call site, not a whole stack. */
export interface Frame {
  /** Function name as V8 reports it (`readWal`, `Storage.write`, `<anonymous>`). */
  readonly function: string;
  /** Absolute file path (or URL for non-file modules). */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly column: number;
}

// "    at fn (file:1:2)", "    at async fn (file:1:2)", "    at file:1:2", "    at new Foo (file:1:2)"
const FRAME_RE = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;

/** Parses one line of a V8 stack trace; undefined for lines that carry no position. */
export function parseFrameLine(line: string): Frame | undefined {
  const m = FRAME_RE.exec(line);
  if (!m) return undefined;
  const [, fn, rawFile, lineNo, col] = m;
  if (rawFile === undefined || lineNo === undefined || col === undefined) return undefined;
  let file = rawFile;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep the URL as it is
    }
  }
  const name = (fn ?? '<anonymous>').replace(/^async /, '');
  return { function: name, file, line: Number(lineNo), column: Number(col) };
}

/** The first positioned frame of a stack text (skipping the message lines). */
export function firstFrameOfStack(stack: string | undefined): Frame | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n')) {
    if (!line.trimStart().startsWith('at ')) continue;
    const frame = parseFrameLine(line);
    if (frame) return frame;
  }
  return undefined;
}

/**
 * Captures the call site of the caller of `above` (the function that called the wrapping
 * helper). Only one frame is collected, so this costs far less than a full stack.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function captureFrame(above: Function): Frame | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  try {
    Error.captureStackTrace(holder, above);
    return firstFrameOfStack(holder.stack);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `file:line` with the file shown relative to the working directory when it is below it. */
export function formatFrameLocation(frame: Frame, cwd: string = process.cwd()): string {
  let file = frame.file;
  if (isAbsolute(file)) {
    const rel = relative(cwd, file);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) file = rel.split(sep).join('/');
  }
  return `${file}:${frame.line}`;
}
