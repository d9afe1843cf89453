import { Option, type Command } from 'commander';

/** The gateway the CLI talks to when neither `--gateway-url` nor `AGOLA_GATEWAY_URL` is set. */
export const DEFAULT_GATEWAY_URL = 'http://localhost:8000';

/** The options every command accepts (before or after the command name). */
export interface GlobalOptions {
  /** `--gateway-url/-u`, env `AGOLA_GATEWAY_URL`. */
  gatewayUrl: string;
  /** `--token`, env `AGOLA_TOKEN`: never printed, never logged. */
  token?: string;
  /** `--debug/-d`: each request's method, path and status on stderr. */
  debug: boolean;
  /** `--detailed-errors`: the error chain with a file:line per element. */
  detailedErrors: boolean;
  /** `--json`: machine output on stdout. */
  json: boolean;
}

/** Adds the global options to the root command. */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(
      new Option('-u, --gateway-url <url>', 'the gateway URL')
        .env('AGOLA_GATEWAY_URL')
        .default(DEFAULT_GATEWAY_URL),
    )
    // no default shown and never echoed: the help says where it comes from, not its value
    .addOption(new Option('--token <token>', 'API token (user or admin)').env('AGOLA_TOKEN'))
    .option('-d, --debug', 'print each request (method, path, status) on stderr', false)
    .option('--detailed-errors', 'print the error chain with where each part happened', false)
    .option('--json', 'print machine-readable JSON instead of tables', false);
}

/** The global options as seen from any (sub)command. */
export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<Partial<GlobalOptions>>();
  return {
    gatewayUrl: o.gatewayUrl ?? DEFAULT_GATEWAY_URL,
    ...(o.token ? { token: o.token } : {}),
    debug: o.debug === true,
    detailedErrors: o.detailedErrors === true,
    json: o.json === true,
  };
}
