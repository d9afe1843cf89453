// The load generator of the configstore benchmark, run as a child process: `connections`
// keep-alive connections for `seconds`, each an autocannon instance of its own going through
// `paths` in turn from its own offset (so concurrent requests name different projects and a
// server cannot answer many from one lookup; autocannon builds each request once). Prints the
// requests per second (the sum over the connections), the median p50 and the highest p99 of
// the connections, and the failures, as JSON.
// Arguments: <origin> <connections> <seconds> <paths as a JSON array>.
import { createRequire } from 'node:module';

interface Result {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    requests: Array<{ method: string; path: string }>;
  },
  done: (err: Error | null, result: Result) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const [origin = '', connections = '32', seconds = '5', pathsJson = '[]'] = process.argv.slice(2);
const paths = JSON.parse(pathsJson) as string[];
const n = Number(connections);

const results = await Promise.all(
  Array.from({ length: n }, (_, k) => {
    const offset = Math.floor((k * paths.length) / n);
    const mine = [...paths.slice(offset), ...paths.slice(0, offset)];
    return new Promise<Result>((resolve, reject) =>
      autocannon(
        {
          url: origin,
          connections: 1,
          duration: Number(seconds),
          requests: mine.map((path) => ({ method: 'GET', path })),
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      ),
    );
  }),
);
const sum = (f: (r: Result) => number) => results.reduce((a, r) => a + f(r), 0);
const p50s = results.map((r) => r.latency.p50).sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    requests: { average: sum((r) => r.requests.average) },
    latency: {
      p50: p50s[Math.floor(p50s.length / 2)] ?? NaN,
      p99: Math.max(...results.map((r) => r.latency.p99)),
    },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
  }),
);
