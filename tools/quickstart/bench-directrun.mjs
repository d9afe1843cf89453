// Measures `agola directrun start` on examples/hello: the time from the end of the push to the
// first log line on the terminal, and the whole command, over N runs on one `agola serve`.
// `node tools/quickstart/bench-directrun.mjs [runs=5]` (after `npm run quickstart` built it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUserWithToken, directrun, prepareHello, startServe } from './serve.mjs';

const runs = Number(process.argv[2] ?? '5');
const dir = await mkdtemp(join(tmpdir(), 'bench-directrun-'));
const serve = await startServe({ dataDir: join(dir, 'serve') });
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0]} ms, median ${s[Math.floor(s.length / 2)]} ms, max ${s.at(-1)} ms`;
};
try {
  console.log(`agola serve ready in ${serve.coldStartMs} ms`);
  const user = await createUserWithToken(serve.gatewayURL, serve.adminToken, 'bench');
  const repoDir = await prepareHello(join(dir, 'hello'));
  const firstLog = [];
  const total = [];
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    const out = await directrun({ gatewayURL: serve.gatewayURL, token: user.token, repoDir });
    const ms = Date.now() - started;
    const m = /first log line ([\d.]+) s after the push/.exec(out.stderr);
    if (out.exitCode !== 0 || !m) throw new Error(`run ${i + 1} failed:\n${out.stderr}`);
    firstLog.push(Math.round(Number(m[1]) * 1000));
    total.push(ms);
    console.log(
      `run ${i + 1}: first log line ${firstLog.at(-1)} ms after the push; command ${ms} ms`,
    );
  }
  console.log(`push -> first log line: ${stats(firstLog)} (goal < 1000 ms)`);
  console.log(`whole command (node start, save, push, run, follow): ${stats(total)}`);
} finally {
  await serve.stop();
  await rm(dir, { recursive: true, force: true });
}
