import type { Command } from 'commander';
import { clientFrom } from '../cli/client.js';
import { printItem } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';

/** The version of this `agola` command. */
export const CLI_VERSION = '0.1.0';

/** `agola version`: the client's version and the gateway's (`GET /version`). */
export const versionCommands: CommandModule = {
  register(program: Command) {
    program
      .command('version')
      .description("print the client's and the gateway's versions")
      .action(
        cliAction(async (_opts, cmd) => {
          const gw = await clientFrom(cmd).getVersion();
          printItem(cmd, { client_version: CLI_VERSION, server_version: gw.version }, [
            { header: 'client version', value: (v) => v.client_version },
            { header: 'gateway version', value: (v) => v.server_version },
          ]);
        }),
      );
  },
};
