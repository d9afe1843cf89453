import { Transform, type TransformCallback } from 'node:stream';

/** What replaces a secret value in a log. */
export const SECRET_MASK = '********';

/** Options of {@link createSecretMasker}. */
export interface SecretMaskerOptions {
  /**
   * Values shorter than this many bytes are not masked: masking `a` or `1` would replace
   * every such character in the log and make it unreadable, while hiding little. They are
   * counted in {@link SecretMasker.unmaskedCount} so the caller can warn (without the value).
   * Empty values are never masked. @default 4
   */
  minLength?: number;
  /**
   * A line of a multi-line value is masked on its own only from this many bytes (after
   * trimming): the short lines of a JSON or PEM value (`{`, `]`, `"bar"`) would otherwise
   * mask unrelated output. The whole value is always masked. @default 8
   */
  minLineLength?: number;
}

/** A stream that masks secret values (see {@link createSecretMasker}). */
export interface SecretMasker extends Transform {
  /** How many given values were too short to be masked (see {@link SecretMaskerOptions.minLength}). */
  readonly unmaskedCount: number;
  /** The most bytes the stream holds back while a secret might still be completing. */
  readonly maxHoldBack: number;
}

/** Every byte sequence that must not reach the log for these values. */
function needlesOf(values: readonly string[], minLength: number, minLineLength: number): Buffer[] {
  const seen = new Set<string>();
  const add = (s: string, min: number) => {
    if (Buffer.byteLength(s) >= min) seen.add(s);
  };
  for (const value of values) {
    add(value, minLength);
    if (value.includes('\n')) {
      // Through a tty, "\n" is written as "\r\n"; a program may also print one line alone.
      add(value.replace(/\r?\n/g, '\r\n'), minLength);
      // Short lines (`{`, `]`, `"bar"` of a JSON value) would mask unrelated output
      // (Woodpecker #7103): lines count only from minLineLength, trimmed.
      for (const line of value.split('\n')) add(line.trim(), Math.max(minLength, minLineLength));
    }
  }
  return [...seen].map((s) => Buffer.from(s, 'utf8'));
}

class SecretMaskStream extends Transform implements SecretMasker {
  readonly unmaskedCount: number;
  readonly maxHoldBack: number;
  /** Needles by their first byte, longest first. */
  private readonly byFirstByte = new Map<number, Buffer[]>();
  private pending: Buffer = Buffer.alloc(0);
  /** True while inside a masked region (its mask already written). */
  private inMask = false;
  /** End of the masked region, relative to the start of {@link pending}. */
  private maskEnd = 0;
  private readonly mask = Buffer.from(SECRET_MASK);

  constructor(values: readonly string[], minLength: number, minLineLength: number) {
    super();
    const nonEmpty = values.filter((v) => v.length > 0);
    this.unmaskedCount = nonEmpty.filter((v) => Buffer.byteLength(v) < minLength).length;
    const needles = needlesOf(nonEmpty, Math.max(1, minLength), minLineLength);
    let maxLen = 0;
    for (const n of needles) {
      maxLen = Math.max(maxLen, n.length);
      const first = n[0] as number;
      const list = this.byFirstByte.get(first) ?? [];
      list.push(n);
      this.byFirstByte.set(first, list);
    }
    for (const list of this.byFirstByte.values()) list.sort((a, b) => b.length - a.length);
    this.maxHoldBack = Math.max(0, maxLen - 1);
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.process(this.pending.length ? Buffer.concat([this.pending, data]) : data, false);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.process(this.pending, true);
    cb();
  }

  /**
   * Emits everything of `d` that is decided. Every match of any needle is masked, and
   * overlapping or adjacent matches become one mask, so no part of any secret leaks even when
   * two secrets overlap. Bytes from the first position where a needle could still complete
   * with the next chunk are held back (fewer than the longest needle). Matches are found with
   * `Buffer.indexOf` (native), so clean output costs little.
   */
  private process(d: Buffer, final: boolean): void {
    // The first position where a longer needle could still complete with the next chunk.
    let holdFrom = d.length;
    if (!final) {
      for (
        let i = Math.max(0, d.length - this.maxHoldBack);
        i < d.length && holdFrom === d.length;
        i++
      ) {
        for (const n of this.byFirstByte.get(d[i] as number) ?? []) {
          if (n.length > d.length - i && d.compare(n, 0, d.length - i, i, d.length) === 0) {
            holdFrom = i;
            break;
          }
        }
      }
    }
    // Matches starting before holdFrom (later ones are found again with the next chunk).
    const regions: [number, number][] = [];
    if (this.inMask) regions.push([0, this.maskEnd]);
    for (const list of this.byFirstByte.values()) {
      for (const n of list) {
        for (let at = d.indexOf(n); at >= 0 && at < holdFrom; at = d.indexOf(n, at + 1)) {
          regions.push([at, at + n.length]);
        }
      }
    }
    regions.sort((a, b) => a[0] - b[0]);
    // One push per chunk: many small pushes cost more than the matching.
    const out: Buffer[] = [];
    let plainStart = 0;
    let current: [number, number] | undefined;
    const continuing = this.inMask;
    for (const [start, end] of regions) {
      if (current && start <= current[1]) {
        current[1] = Math.max(current[1], end);
        continue;
      }
      if (current) plainStart = current[1];
      current = [start, end];
      if (!(continuing && start === 0)) {
        if (start > plainStart) out.push(d.subarray(plainStart, start));
        out.push(this.mask);
      }
    }
    if (current && current[1] >= holdFrom) {
      // The region reaches the held bytes (or ends right at them: an adjacent match merges).
      this.inMask = !final;
      this.maskEnd = current[1] - holdFrom;
    } else {
      if (current) plainStart = current[1];
      this.inMask = false;
      this.maskEnd = 0;
      if (holdFrom > plainStart) out.push(d.subarray(plainStart, holdFrom));
    }
    if (out.length === 1) this.push(Buffer.from(out[0] as Buffer));
    else if (out.length > 1) this.push(Buffer.concat(out));
    this.pending = Buffer.from(d.subarray(holdFrom));
  }
}

/**
 * A Transform stream that replaces every occurrence of a secret value with `********`
 * before any byte of it is passed on: also when a value spans lines, is written through a
 * tty (`\n` as `\r\n`), is split across chunks, or overlaps another secret. For a multi-line
 * value each line of at least `minLineLength` bytes is masked on its own as well. The stream holds back at most
 * `longest value - 1` bytes (only while they could still be the start of a secret) and
 * writes them at the end.
 *
 * Policy for short values: empty values are ignored; values shorter than `minLength` bytes
 * (default 4) are not masked and counted in `unmaskedCount`.
 *
 * @example
 * ```ts
 * const masker = createSecretMasker(['s3cr3t-token']);
 * stepOutput.pipe(masker).pipe(createWriteStream(logPath));
 * ```
 */
export function createSecretMasker(
  values: readonly string[],
  options: SecretMaskerOptions = {},
): SecretMasker {
  return new SecretMaskStream(values, options.minLength ?? 4, options.minLineLength ?? 8);
}
