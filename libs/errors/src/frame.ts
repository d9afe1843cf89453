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

// A Windows drive path: "C:\x", "c:/x" (also after the "/" of a file URL's pathname).
const DRIVE_RE = /^[A-Za-z]:[\\/]/;

/**
 * The path of a `file:` URL, as `url.fileURLToPath` gives it on POSIX (percent-escapes
 * decoded), and as a Windows path (`C:\dir\file.ts`) when the URL names a drive. Undefined
 * for a URL it cannot turn into a path (a remote host, an escaped `/`, a bad escape).
 * No `node:` module: this file is bundled into browser code too.
 */
export function filePathOfURL(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'file:') return undefined;
  const { hostname, pathname } = parsed;
  if (hostname !== '' && hostname !== 'localhost') return undefined;
  if (/%2f/i.test(pathname)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const drive = path.slice(1);
  return DRIVE_RE.test(drive) ? drive.replace(/\//g, '\\') : path;
}

/** Parses one line of a V8 stack trace; undefined for lines that carry no position. */
export function parseFrameLine(line: string): Frame | undefined {
  const m = FRAME_RE.exec(line);
  if (!m) return undefined;
  const [, fn, rawFile, lineNo, col] = m;
  if (rawFile === undefined || lineNo === undefined || col === undefined) return undefined;
  let file = rawFile;
  if (file.startsWith('file://')) file = filePathOfURL(file) ?? file; // else the URL as it is
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

/** Whether `path` is absolute: `/x`, `C:\x`, `C:/x` or a UNC path `\\server\share`. */
function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || DRIVE_RE.test(path);
}

/** The segments of an absolute path, either separator, with `.` and `..` resolved. */
function segmentsOf(path: string): string[] {
  const out: string[] = [];
  for (const seg of path.split(/[\\/]/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out;
}

/**
 * `file` relative to the directory `cwd` with `/` separators, or undefined when it is not
 * below it (or is `cwd` itself). Both separators are understood; Windows drive letters and
 * names compare case-insensitively, as `path.relative` does there.
 */
export function relativeBelow(cwd: string, file: string): string | undefined {
  if (!isAbsolutePath(file) || !isAbsolutePath(cwd)) return undefined;
  const windows = !file.startsWith('/');
  if (windows !== !cwd.startsWith('/')) return undefined;
  const base = segmentsOf(cwd);
  const target = segmentsOf(file);
  if (target.length <= base.length) return undefined;
  const same = (a: string, b: string) => (windows ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (!base.every((seg, i) => same(seg, target[i] ?? ''))) return undefined;
  const rel = target.slice(base.length).join('/');
  // path.relative's answer starting with ".." (a name like "..cache") was not taken either
  return rel.startsWith('..') ? undefined : rel;
}

/** The working directory when there is one (Node), else `""` (a browser). */
function currentDir(): string {
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  return typeof proc?.cwd === 'function' ? proc.cwd() : '';
}

/** `file:line` with the file shown relative to the working directory when it is below it. */
export function formatFrameLocation(frame: Frame, cwd: string = currentDir()): string {
  const rel = relativeBelow(cwd, frame.file);
  return `${rel ?? frame.file}:${frame.line}`;
}
