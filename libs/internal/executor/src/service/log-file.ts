import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Wakes the readers that follow a log file: a write or the end of a step calls
 * {@link LogWatchers.notify}; a follower waits with {@link LogWatchers.wait}.
 */
export class LogWatchers {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly generations = new Map<string, number>();

  /** How many times `path` was notified (a reader compares it to not miss a write). */
  generation(path: string): number {
    return this.generations.get(path) ?? 0;
  }

  /** Forgets the generations of the paths under `dir` (a removed task dir). */
  forget(dir: string): void {
    for (const path of this.generations.keys()) {
      if (path.startsWith(dir)) this.generations.delete(path);
    }
  }

  /** Wakes every reader waiting on `path`. */
  notify(path: string): void {
    this.generations.set(path, this.generation(path) + 1);
    const set = this.waiting.get(path);
    if (!set) return;
    this.waiting.delete(path);
    for (const wake of set) wake();
  }

  /**
   * Resolves on the next {@link notify} of `path` (at once if it was notified since
   * `generation`), after `timeoutMs`, or when `signal` aborts.
   */
  wait(path: string, timeoutMs: number, signal?: AbortSignal, generation?: number): Promise<void> {
    return new Promise((resolve) => {
      if (generation !== undefined && this.generation(path) !== generation) {
        resolve();
        return;
      }
      let set = this.waiting.get(path);
      if (!set) {
        set = new Set();
        this.waiting.set(path, set);
      }
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener('abort', wake, { once: true });
      set.add(wake);
    });
  }
}

/**
 * A log file written chunk by chunk (appended as it comes, so followers see it at once);
 * every write wakes the followers of the file.
 */
export class LogFile extends Writable {
  private handle: FileHandle | undefined;

  constructor(
    readonly path: string,
    private readonly watchers: LogWatchers,
  ) {
    super();
  }

  override _construct(cb: (err?: Error | null) => void): void {
    open(this.path, 'a').then(
      (h) => {
        this.handle = h;
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.handle!.write(chunk).then(
      () => {
        this.watchers.notify(this.path);
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.handle!.close().then(
      () => {
        this.handle = undefined;
        this.watchers.notify(this.path);
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const h = this.handle;
    this.handle = undefined;
    if (!h) return cb(err);
    h.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

/**
 * Reads a log file from the start and, while `following()` says it may still grow, waits for
 * more (woken by the writer, at worst every `pollMs`). Ends when the file is complete, or
 * when `signal` aborts.
 */
export async function* followFile(
  path: string,
  watchers: LogWatchers,
  following: () => boolean,
  options: { signal?: AbortSignal; pollMs?: number } = {},
): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let offset = 0;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      if (options.signal?.aborted) return;
      // read what is there before deciding whether more can come; a write after the read
      // changes the generation, so the wait below returns at once instead of missing it
      const generation = watchers.generation(path);
      const stillOpen = following();
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        yield Buffer.from(buf.subarray(0, bytesRead));
        continue;
      }
      if (!stillOpen) return;
      await watchers.wait(path, options.pollMs ?? 500, options.signal, generation);
    }
  } finally {
    await fh.close();
  }
}
