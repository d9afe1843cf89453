import { causeChain } from './chain.js';
import { ErrorCodes } from './codes.js';
import { captureFrame, firstFrameOfStack, type Frame } from './frame.js';

/** Options of {@link AgolaError}. */
export interface AgolaErrorOptions {
  /** Stable code; defaults to the cause's code when the cause is an AgolaError, else `ERR_UNKNOWN`. */
  code?: string;
  /** The error this one wraps (ES2022 `cause`). */
  cause?: unknown;
  /**
   * The call site to record. By default the caller of the constructor (or of the function
   * given as `callerOf`); `null` records none.
   */
  frame?: Frame | null;
  /** Record the caller of this function instead of the caller of the constructor. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  callerOf?: Function;
}

/**
 * Walks from a class to a brand symbol so `instanceof` works across duplicate copies of
 * this package (two versions in one node_modules tree): classes match on brand, not identity.
 */
function hasBrand(value: unknown, brand: symbol): boolean {
  let proto: unknown =
    value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : null;
  while (proto) {
    const ctor = (proto as { constructor?: { brand?: unknown } }).constructor;
    if (ctor && Object.prototype.hasOwnProperty.call(ctor, 'brand') && ctor.brand === brand) {
      return true;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/** The text of one chain element alone, without its causes. */
export function ownMessageOf(value: unknown): string {
  if (value instanceof AgolaError) return value.ownMessage;
  if (value instanceof Error) return value.message;
  return String(value);
}

/**
 * The compact text of a chain: every element's own message joined with `": "`, skipping
 * empty ones (such as {@link withStack} wrappers). Cycle-safe.
 */
export function compactText(value: unknown): string {
  const parts: string[] = [];
  for (const element of causeChain(value)) {
    const own = ownMessageOf(element);
    if (own) parts.push(own);
  }
  return parts.join(': ');
}

/**
 * The base error of Agola-TS: a stable `code`, an ES2022 `cause`, and the call site (`frame`)
 * where it was created or wrapped. `message` is the compact text of the whole chain
 * (`"reading wal 42: opening file: ENOENT: no such file or directory"`), like Go's `Error()`;
 * `ownMessage` is this element's part alone.
 *
 * Subclasses set a static `brand` (a `Symbol.for` symbol) so `instanceof` keeps working
 * when two copies of a package are installed.
 *
 * @example
 * ```ts
 * throw new AgolaError('object "a/b" does not exist', { code: 'ERR_OST_NOT_EXIST' });
 * ```
 */
export class AgolaError extends Error {
  /** Brand that makes `instanceof` work across package copies; subclasses define their own. */
  static readonly brand: symbol = Symbol.for('@agola-ts/errors:AgolaError');

  static override [Symbol.hasInstance](value: unknown): boolean {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    if (Function.prototype[Symbol.hasInstance].call(this as unknown as Function, value))
      return true;
    return hasBrand(value, (this as unknown as { brand: symbol }).brand);
  }

  /** Stable machine-readable code (see `docs/errors.md`). */
  readonly code: string;
  /** This element's own message ('' for a {@link withStack} wrapper). */
  readonly ownMessage: string;
  /** Where this error was created or wrapped. */
  readonly frame: Frame | undefined;

  constructor(message: string, options: AgolaErrorOptions = {}) {
    // Only one frame is wanted: a full V8 stack at every wrap would be wasted work.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super('', options.cause !== undefined ? { cause: options.cause } : undefined);
    } finally {
      Error.stackTraceLimit = limit;
    }
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      enumerable: false,
      configurable: true,
      writable: true,
    });
    this.ownMessage = message;
    const cause = options.cause;
    this.code =
      options.code ?? (cause instanceof AgolaError ? cause.code : undefined) ?? ErrorCodes.Unknown;
    this.frame =
      options.frame === null
        ? undefined
        : (options.frame ?? captureFrame(options.callerOf ?? new.target));
    this.message = compactText(this);
    this.stack = pseudoStack(this);
  }
}

/**
 * A stack text made of the chain's frames (one per wrap) instead of one full V8 stack, so
 * test runners and `util.inspect` still show a clickable trace through the layers.
 */
function pseudoStack(err: AgolaError): string {
  const lines = [`${err.name} [${err.code}]: ${err.message}`];
  for (const element of causeChain(err)) {
    const frame = frameOf(element);
    if (frame) lines.push(`    at ${frame.function} (${frame.file}:${frame.line}:${frame.column})`);
  }
  return lines.join('\n');
}

/** The recorded frame of an AgolaError, or the first frame of another error's stack. */
export function frameOf(element: unknown): Frame | undefined {
  if (element instanceof AgolaError) return element.frame;
  return element instanceof Error ? firstFrameOfStack(element.stack) : undefined;
}

/**
 * A thrown value that was not an `Error` (a string, a number, a plain object), turned into
 * one so every chain is made of errors. `value` keeps what was thrown.
 */
export class NonErrorThrown extends AgolaError {
  static override readonly brand: symbol = Symbol.for('@agola-ts/errors:NonErrorThrown');
  /** The original thrown value. */
  readonly value: unknown;

  constructor(value: unknown) {
    super(describeThrown(value), { code: ErrorCodes.Unknown, frame: null });
    this.value = value;
  }
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null || typeof value !== 'object') {
    return `non-error thrown: ${String(value)}`;
  }
  try {
    return `non-error thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-error thrown: ${Object.prototype.toString.call(value)}`;
  }
}

/** Returns `value` when it is an `Error`, else a {@link NonErrorThrown} holding it. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new NonErrorThrown(value);
}
