// Benchmark helpers (`@agola-ts/testkit/bench`): HTTP load from autocannon in a separate
// process, A/B sides interleaved round by round, medians and percentiles, peak RSS.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { newError, wrap } from '@agola-ts/errors';
import { TestkitErrorCodes } from './codes.js';

/**
 * The `p`-th percentile of an ascending array: the element at `floor(p / 100 * length)`
 * (the last one for `p = 100`); `NaN` for an empty array. The caller sorts.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 3
 * percentile([1, 2, 3, 4], 99); // 4
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * The median of `xs` in any order: the middle element, the upper one of the two middles for
 * an even count (the same as `percentile(sorted, 50)`); `NaN` for none.
 *
 * @example
 * ```ts
 * median([30, 10, 20]); // 20
 * median([4, 1, 3, 2]); // 3
 * ```
 */
export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

/**
 * The order in which {@link runInterleaved} runs `sides` sides for `rounds` rounds: round `r`
 * starts with side `r mod sides` and goes on in turn, so no side always runs first or right
 * after the same other side. One array of side indexes per round.
 *
 * @example
 * ```ts
 * interleavedOrder(3, 2); // [[0, 1, 2], [1, 2, 0]]
 * ```
 */
export function interleavedOrder(sides: number, rounds: number): number[][] {
  return Array.from({ length: rounds }, (_, r) =>
    Array.from({ length: sides }, (_, i) => (i + r) % sides),
  );
}

/** Options of {@link runInterleaved}. */
export interface InterleaveOptions<T, R> {
  /** Called after each round with what it measured, in the order it ran. */
  onRound?: (round: number, ran: Array<{ side: T; index: number; result: R }>) => void;
  /** Stops before the next side when aborted (the error is the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Measures A/B (or more) sides the fair way on a noisy machine: `rounds` rounds, each running
 * every side once, one after the other, in the rotated order of {@link interleavedOrder}.
 * Returns the results per side (in the order of `sides`), one per round: take their
 * {@link median}.
 *
 * @example
 * ```ts
 * const [bare, mine] = await runInterleaved([bareUrl, myUrl], 3, (url) =>
 *   runLoad({ url, connections: 32, durationSeconds: 5 }),
 * );
 * console.log(median(mine.map((r) => r.perSecond)) / median(bare.map((r) => r.perSecond)));
 * ```
 */
export async function runInterleaved<T, R>(
  sides: readonly T[],
  rounds: number,
  run: (side: T, round: number) => Promise<R>,
  options: InterleaveOptions<T, R> = {},
): Promise<R[][]> {
  const results: R[][] = sides.map(() => []);
  for (const [round, order] of interleavedOrder(sides.length, rounds).entries()) {
    const ran: Array<{ side: T; index: number; result: R }> = [];
    for (const index of order) {
      options.signal?.throwIfAborted();
      const side = sides[index] as T;
      const result = await run(side, round);
      results[index]?.push(result);
      ran.push({ side, index, result });
    }
    options.onRound?.(round, ran);
  }
  return results;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** The URL loaded; with {@link paths}, the origin they are requested from. */
  url: string;
  /** Keep-alive connections, one request at a time each. */
  connections: number;
  /** How long the load runs, in seconds. */
  durationSeconds: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * GET these paths instead of the URL's: each connection is then an autocannon instance of
   * its own going through them in turn from its own offset, so concurrent requests name
   * different resources (autocannon builds each request once).
   */
  paths?: readonly string[];
  /**
   * Sample this process's RSS every this many ms while the load runs ({@link
   * LoadResult.peakRssBytes}); off by default.
   */
  sampleRssMs?: number;
  /** Kills the load process and rejects when aborted. */
  signal?: AbortSignal;
}

/** What one {@link runLoad} measured. */
export interface LoadResult {
  /** Requests per second (autocannon's average; with `paths`, the sum over the connections). */
  perSecond: number;
  /** Median latency in ms (with `paths`, the median of the connections' medians). */
  p50: number;
  /** 99th percentile latency in ms (with `paths`, the highest of the connections'). */
  p99: number;
  /** Answers that were not 2xx. */
  non2xx: number;
  /** Socket errors (timeouts included, as autocannon counts them). */
  socketErrors: number;
  /** Requests that timed out. */
  timeouts: number;
  /** All failures: `non2xx + socketErrors + timeouts`. */
  errors: number;
  /** Peak RSS of this process while the load ran, in bytes (when `sampleRssMs` was given). */
  peakRssBytes?: number;
  /** CPU time (user + system, all threads) of this process per request, in µs. */
  cpuMicrosPerRequest: number;
}

/** The fields of autocannon's result (its `-j` JSON) that {@link parseAutocannonOutput} reads. */
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

function isAutocannonResult(x: unknown): x is AutocannonResult {
  const r = x as Partial<AutocannonResult> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.requests?.average === 'number' &&
    typeof r.latency?.p50 === 'number' &&
    typeof r.latency.p99 === 'number' &&
    typeof r.non2xx === 'number' &&
    typeof r.errors === 'number' &&
    typeof r.timeouts === 'number'
  );
}

/**
 * Reads autocannon's JSON output: one result (what `autocannon -j` prints) or an array of
 * results of concurrent instances, combined (requests/s summed, the median of the p50s, the
 * highest p99, failures summed). Throws `ERR_TESTKIT_LOAD_FAILED` for anything else.
 *
 * @example
 * ```ts
 * const r = parseAutocannonOutput(stdoutOfAutocannonDashJ);
 * console.log(r.perSecond, r.p99, r.errors);
 * ```
 */
export function parseAutocannonOutput(
  text: string,
): Omit<LoadResult, 'peakRssBytes' | 'cpuMicrosPerRequest'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw wrap(err, `autocannon output is not JSON: ${text.slice(0, 200)}`, {
      code: TestkitErrorCodes.LoadFailed,
    });
  }
  const results = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  if (results.length === 0 || !results.every(isAutocannonResult)) {
    throw newError(`autocannon output is no result: ${text.slice(0, 200)}`, {
      code: TestkitErrorCodes.LoadFailed,
    });
  }
  const sum = (f: (r: AutocannonResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const non2xx = sum((r) => r.non2xx);
  const socketErrors = sum((r) => r.errors);
  const timeouts = sum((r) => r.timeouts);
  return {
    perSecond: sum((r) => r.requests.average),
    p50: median(results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx,
    socketErrors,
    timeouts,
    errors: non2xx + socketErrors + timeouts,
  };
}

// The load process (CommonJS, run with `node -e`): argv = [autocannon's path, options JSON].
// Prints the autocannon result(s) as JSON on stdout.
const LOAD_SCRIPT = `
const [acPath, optionsJson] = process.argv.slice(1);
const autocannon = require(acPath);
const o = JSON.parse(optionsJson);
const one = (opts) =>
  new Promise((resolve, reject) => autocannon(opts, (err, r) => (err ? reject(err) : resolve(r))));
const base = { url: o.url, duration: o.durationSeconds, headers: o.headers };
const run = o.paths
  ? Promise.all(
      Array.from({ length: o.connections }, (_, k) => {
        const offset = Math.floor((k * o.paths.length) / o.connections);
        const mine = [...o.paths.slice(offset), ...o.paths.slice(0, offset)];
        return one({ ...base, connections: 1, requests: mine.map((path) => ({ method: 'GET', path })) });
      }),
    )
  : one({ ...base, connections: o.connections });
run.then(
  (r) => process.stdout.write(JSON.stringify(r)),
  (err) => {
    process.stderr.write(String((err && err.stack) || err));
    process.exitCode = 1;
  },
);
`;

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const STDERR_TAIL = 4096;

/**
 * Loads `url` with autocannon in a separate node process (so the load generator does not
 * share this process's event loop with the servers measured): `connections` keep-alive
 * connections for `durationSeconds`. Returns requests/s, latency percentiles and failures,
 * this process's CPU time per request and, with `sampleRssMs`, its peak RSS meanwhile.
 * Throws `ERR_TESTKIT_LOAD_FAILED` when autocannon fails.
 *
 * @example
 * ```ts
 * const r = await runLoad({ url: 'http://127.0.0.1:8000/api/v1alpha/runs', connections: 32,
 *   durationSeconds: 5, headers: { authorization: `token ${token}` }, sampleRssMs: 50 });
 * console.log(`${r.perSecond.toFixed(0)} req/s, p99 ${r.p99} ms, ${r.errors} errors`);
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const rss = options.sampleRssMs ? trackPeakRss(options.sampleRssMs) : undefined;
  const cpu = process.cpuUsage();
  try {
    const settings = {
      url: options.url,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      headers: options.headers ?? {},
      paths: options.paths,
    };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['-e', LOAD_SCRIPT, AUTOCANNON, JSON.stringify(settings)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      const onAbort = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on(
        'data',
        (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)),
      );
      child.on('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(wrap(err, 'starting autocannon', { code: TestkitErrorCodes.LoadFailed }));
      });
      child.on('close', (code, sig) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(signal.reason as Error);
        else if (code === 0) resolve(stdout);
        else
          reject(
            newError(`autocannon exited ${code ?? sig}: ${stderr}`, {
              code: TestkitErrorCodes.LoadFailed,
            }),
          );
      });
    });
    const result = parseAutocannonOutput(out);
    const used = process.cpuUsage(cpu);
    return {
      ...result,
      ...(rss ? { peakRssBytes: rss.stop() } : {}),
      cpuMicrosPerRequest:
        (used.user + used.system) / Math.max(1, result.perSecond * options.durationSeconds),
    };
  } finally {
    rss?.stop();
  }
}

/** The medians of the rounds of one side, from {@link summarizeLoads}. */
export interface LoadSummary {
  /** Median requests per second. */
  perSecond: number;
  /** Median of the rounds' p50 latencies, ms. */
  p50: number;
  /** Median of the rounds' p99 latencies, ms. */
  p99: number;
  /** Failures of all rounds together. */
  errors: number;
  /** Highest sampled peak RSS of the rounds, bytes (`-Infinity` when none was sampled). */
  peakRssBytes: number;
  /** Median CPU time of this process per request, µs. */
  cpuMicrosPerRequest: number;
  /** Requests per second of each round, in round order. */
  perRound: number[];
}

/**
 * Sums up one side's rounds: medians of req/s, latencies and CPU per request, all failures,
 * the highest peak RSS, and the per-round req/s.
 *
 * @example
 * ```ts
 * const s = summarizeLoads(roundsOfOneRoute);
 * console.log(`${s.perSecond.toFixed(0)} req/s (${s.perRound.join(' / ')})`);
 * ```
 */
export function summarizeLoads(results: readonly LoadResult[]): LoadSummary {
  return {
    perSecond: median(results.map((x) => x.perSecond)),
    p50: median(results.map((x) => x.p50)),
    p99: median(results.map((x) => x.p99)),
    errors: results.reduce((a, x) => a + x.errors, 0),
    peakRssBytes: Math.max(...results.map((x) => x.peakRssBytes ?? -Infinity)),
    cpuMicrosPerRequest: median(results.map((x) => x.cpuMicrosPerRequest)),
    perRound: results.map((x) => x.perSecond),
  };
}

/** A running RSS sampler of this process, from {@link trackPeakRss}. */
export interface RssTracker {
  /** The highest RSS seen so far, in bytes. */
  peak(): number;
  /** Stops sampling (again is harmless) and returns the highest RSS seen, in bytes. */
  stop(): number;
}

/**
 * Samples this process's RSS every `intervalMs` (and once now) until stopped: its peak over
 * a stretch of work, where `/proc` VmHWM would give the peak of the process's whole life.
 *
 * @example
 * ```ts
 * const rss = trackPeakRss(50);
 * await work();
 * console.log(`peak ${(rss.stop() / 2 ** 20).toFixed(0)} MiB`);
 * ```
 */
export function trackPeakRss(intervalMs = 50): RssTracker {
  let peak = process.memoryUsage.rss();
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const timer: NodeJS.Timeout | undefined = setInterval(sample, intervalMs);
  let stopped = false;
  return {
    peak: () => peak,
    stop: () => {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return peak;
    },
  };
}

/**
 * The `VmHWM` (peak resident set size) line of a `/proc/<pid>/status` text, in bytes;
 * undefined when there is none.
 *
 * @example
 * ```ts
 * parseVmHWM('Name:\tnode\nVmHWM:\t  123456 kB\n'); // 126418944
 * ```
 */
export function parseVmHWM(status: string): number | undefined {
  const m = /^VmHWM:\s*(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * The peak RSS of the process `pid` over its whole life so far (Linux `/proc/<pid>/status`
 * VmHWM), in bytes; undefined where there is no such file (another OS, a gone process).
 *
 * @example
 * ```ts
 * const child = spawn('node', ['server.js']);
 * // ... load it ...
 * const peak = await readPeakRss(child.pid!); // before it exits
 * ```
 */
export async function readPeakRss(
  pid: number = process.pid,
  options: { signal?: AbortSignal } = {},
): Promise<number | undefined> {
  try {
    return parseVmHWM(
      await readFile(`/proc/${pid}/status`, { encoding: 'utf8', signal: options.signal }),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
