import { describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  interleavedOrder,
  median,
  parseAutocannonOutput,
  parseVmHWM,
  percentile,
  runInterleaved,
  summarizeLoads,
  trackPeakRss,
  type LoadResult,
} from './bench.js';
import { TestkitErrorCodes } from './codes.js';

// what `autocannon -j` printed for a 1 s run (the histogram tails cut)
const AUTOCANNON_J = JSON.stringify({
  url: 'http://127.0.0.1:18771/',
  connections: 2,
  duration: 1.04,
  errors: 2,
  timeouts: 1,
  mismatches: 0,
  non2xx: 3,
  resets: 0,
  '2xx': 1525,
  statusCodeStats: { '200': { count: 1525 } },
  latency: { average: 0.9, mean: 0.9, p50: 0, p90: 2, p97_5: 6, p99: 13, p99_9: 84 },
  requests: { average: 1525, mean: 1525, total: 1525, sent: 1527 },
  throughput: { average: 189120 },
});

describe('percentile and median', () => {
  test('percentile takes the element at floor(p/100 * n), the last for 100', () => {
    const xs = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(xs, 50)).toBe(60);
    expect(percentile(xs, 90)).toBe(100);
    expect(percentile(xs, 99)).toBe(100);
    expect(percentile(xs, 0)).toBe(10);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  test('median sorts a copy and takes the middle (the upper one for an even count)', () => {
    const xs = [30, 10, 20];
    expect(median(xs)).toBe(20);
    expect(xs).toEqual([30, 10, 20]);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([100, 9, 80])).toBe(80); // numeric, not lexicographic order
    expect(median([])).toBeNaN();
  });
});

describe('interleaving', () => {
  test('each round starts one side later', () => {
    expect(interleavedOrder(3, 4)).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
      [0, 1, 2],
    ]);
    expect(interleavedOrder(2, 2)).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(interleavedOrder(1, 2)).toEqual([[0], [0]]);
    expect(interleavedOrder(3, 0)).toEqual([]);
  });

  test('runInterleaved runs in that order and files results per side', async () => {
    const calls: string[] = [];
    const rounds: string[] = [];
    const results = await runInterleaved(
      ['a', 'b', 'c'],
      2,
      async (side, round) => {
        calls.push(`${side}${round}`);
        return `${side}@${round}`;
      },
      {
        onRound: (r, ran) =>
          rounds.push(`${r}:${ran.map((x) => `${x.index}=${x.result}`).join(',')}`),
      },
    );
    expect(calls).toEqual(['a0', 'b0', 'c0', 'b1', 'c1', 'a1']);
    expect(results).toEqual([
      ['a@0', 'a@1'],
      ['b@0', 'b@1'],
      ['c@0', 'c@1'],
    ]);
    expect(rounds).toEqual(['0:0=a@0,1=b@0,2=c@0', '1:1=b@1,2=c@1,0=a@1']);
  });

  test('runInterleaved stops at an aborted signal', async () => {
    const ac = new AbortController();
    let n = 0;
    const run = runInterleaved(
      [1, 2, 3],
      3,
      async () => {
        if (++n === 2) ac.abort(new Error('enough'));
      },
      { signal: ac.signal },
    );
    await expect(run).rejects.toThrow('enough');
    expect(n).toBe(2);
  });
});

describe('autocannon output', () => {
  test('one result (autocannon -j)', () => {
    expect(parseAutocannonOutput(AUTOCANNON_J)).toEqual({
      perSecond: 1525,
      p50: 0,
      p99: 13,
      non2xx: 3,
      socketErrors: 2,
      timeouts: 1,
      errors: 6,
    });
  });

  test('concurrent instances: req/s summed, median p50, highest p99, failures summed', () => {
    const one = (average: number, p50: number, p99: number, non2xx: number) => ({
      requests: { average },
      latency: { p50, p99 },
      non2xx,
      errors: 1,
      timeouts: 0,
    });
    const r = parseAutocannonOutput(
      JSON.stringify([one(100, 3, 9, 0), one(120, 1, 30, 2), one(90, 2, 12, 0)]),
    );
    expect(r).toEqual({
      perSecond: 310,
      p50: 2,
      p99: 30,
      non2xx: 2,
      socketErrors: 3,
      timeouts: 0,
      errors: 5,
    });
  });

  test.each([
    ['not json', 'Running 5s test @ http://x'],
    ['no result', '{"url":"http://x"}'],
    ['empty list', '[]'],
    ['a string latency', AUTOCANNON_J.replace('"p99":13', '"p99":"13"')],
  ])('%s: ERR_TESTKIT_LOAD_FAILED', (_, text) => {
    let caught: unknown;
    try {
      parseAutocannonOutput(text);
    } catch (err) {
      caught = err;
    }
    expect(is(caught, TestkitErrorCodes.LoadFailed)).toBe(true);
  });
});

describe('summaries and RSS', () => {
  test('summarizeLoads: medians, summed errors, highest RSS, rounds in order', () => {
    const r = (perSecond: number, p99: number, errors: number, rss?: number): LoadResult => ({
      perSecond,
      p50: perSecond / 100,
      p99,
      non2xx: errors,
      socketErrors: 0,
      timeouts: 0,
      errors,
      cpuMicrosPerRequest: 1000 / perSecond,
      ...(rss === undefined ? {} : { peakRssBytes: rss }),
    });
    const s = summarizeLoads([r(300, 9, 1, 50), r(100, 30, 0, 80), r(200, 12, 2)]);
    expect(s).toEqual({
      perSecond: 200,
      p50: 2,
      p99: 12,
      errors: 3,
      peakRssBytes: 80,
      cpuMicrosPerRequest: 5,
      perRound: [300, 100, 200],
    });
  });

  test('parseVmHWM reads the kB line as bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t   52344 kB\nVmRSS:\t 40000 kB\n';
    expect(parseVmHWM(status)).toBe(52344 * 1024);
    expect(parseVmHWM('Name:\tkthreadd\n')).toBeUndefined();
  });

  test('trackPeakRss sees a larger heap', async () => {
    const rss = trackPeakRss(5);
    const before = rss.peak();
    const big = Buffer.alloc(64 * 2 ** 20, 1); // touched: resident
    await new Promise((r) => setTimeout(r, 30));
    const peak = rss.stop();
    expect(big[big.length - 1]).toBe(1);
    expect(peak).toBeGreaterThanOrEqual(before + 32 * 2 ** 20);
    expect(rss.stop()).toBe(peak);
  });
});
