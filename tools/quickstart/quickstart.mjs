// `npm run quickstart` (after tools/quickstart.sh built everything): starts `agola serve` with
// every component on embedded defaults under .agola-data/quickstart/, creates a user and a
// token, runs examples/hello as a direct run (`agola directrun start`) with its logs on this
// terminal, then keeps serving until Ctrl-C. Non-interactive (`--exit`, or CI=true, or no
// terminal): exits once the run ended, 0 if it succeeded.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AGOLA_BIN, quickstart } from './serve.mjs';

const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const exitAfterRun = process.argv.includes('--exit') || ci || !process.stdout.isTTY;
const write = (t) => process.stdout.write(t);

const dirFlag = process.argv.indexOf('--data-dir');
const dataDir =
  dirFlag > 0 && process.argv[dirFlag + 1]
    ? process.argv[dirFlag + 1]
    : join(process.cwd(), '.agola-data', 'quickstart');
await rm(dataDir, { recursive: true, force: true });
const { serve, user, repoDir, run } = await quickstart({ dataDir, write, inherit: true });

const ok = run.exitCode === 0;
write(
  `\nexamples/hello: ${ok ? 'the run succeeded' : `the run failed (exit code ${run.exitCode})`}\n`,
);
// the gateway serves the web UI at / when apps/web is built (the quickstart builds it)
const page = await fetch(`${serve.urls.gateway}/`).catch(() => undefined);
const webUI =
  page?.ok && (page.headers.get('content-type') ?? '').startsWith('text/html')
    ? `${serve.urls.gateway}/ (log in with the token below)`
    : 'not built (npx nx build @agola-ts/web, then restart)';
write(`
agola serve is running (all-base + executor, embedded etcd, data in ${dataDir}):
  web UI       ${webUI}
  gateway      ${serve.urls.gateway}
  API          ${serve.urls.api}
  configstore  ${serve.urls.configstore}
  runservice   ${serve.urls.runservice}
  git server   ${serve.urls.gitserver}
  config       ${serve.configPath} (holds the admin token)
  log          ${serve.logPath}
user ${user.username}, token ${user.token}

Try it on your own repository (it needs an .agola/config.yml):
  export AGOLA_TOKEN=${user.token}
  node ${AGOLA_BIN} directrun start --gateway-url ${serve.gatewayURL}
(or again on the copy of hello: cd ${repoDir})
`);

if (exitAfterRun) {
  const code = await serve.stop();
  write(`agola serve stopped (exit code ${code})\n`);
  process.exit(ok && code === 0 ? 0 : 1);
}
write('Ctrl-C stops it.\n');
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const code = await serve.stop();
  write(`\nagola serve stopped (exit code ${code})\n`);
  process.exit(code === 0 ? 0 : 1);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
