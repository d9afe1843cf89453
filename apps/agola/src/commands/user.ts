import type { Command } from 'commander';
import type { UserResponse } from '@agola-ts/gateway-client';
import { clientFrom } from '../cli/client.js';
import { printDone, printItem, printList, writeOut } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { globalsOf } from '../cli/global-options.js';
import { nameArg, positiveIntArg } from '../cli/validate.js';

const userFields = [
  { header: 'id', value: (u: UserResponse) => u.id },
  { header: 'username', value: (u: UserResponse) => u.username },
  { header: 'tokens', value: (u: UserResponse) => u.tokens.join(', ') },
  {
    header: 'linked accounts',
    value: (u: UserResponse) => u.linked_accounts.map((la) => la.id).join(', '),
  },
];

/** `agola user`: users (admin), their tokens and linked accounts. */
export const userCommands: CommandModule = {
  register(program: Command) {
    const user = program.command('user').description('manage users');

    user
      .command('create')
      .description('create a user (admin)')
      .requiredOption('-n, --username <name>', 'user name', nameArg)
      .action(
        cliAction(async (opts: { username: string }, cmd) => {
          const created = await clientFrom(cmd).createUser(opts.username);
          printItem(cmd, created, userFields);
        }),
      );

    user
      .command('delete')
      .description('delete a user (admin)')
      .requiredOption('-n, --username <name>', 'user name or id')
      .action(
        cliAction(async (opts: { username: string }, cmd) => {
          await clientFrom(cmd).deleteUser(opts.username);
          printDone(cmd, `user ${opts.username} deleted`);
        }),
      );

    user
      .command('list')
      .description('list users (admin)')
      .option('--limit <n>', 'at most this many', positiveIntArg)
      .option('--start <name>', 'start after this user name')
      .action(
        cliAction(async (opts: { limit?: number; start?: string }, cmd) => {
          const users = await clientFrom(cmd).getUsers({
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
            ...(opts.start !== undefined ? { start: opts.start } : {}),
            asc: true,
          });
          printList(cmd, users, userFields.slice(0, 3));
        }),
      );

    const token = user.command('token').description("manage a user's API tokens");
    token
      .command('create')
      .description('create an API token (its value is printed once, on stdout)')
      .requiredOption('-n, --username <name>', 'user name or id')
      .requiredOption('-t, --tokenname <name>', 'token name', nameArg)
      .action(
        cliAction(async (opts: { username: string; tokenname: string }, cmd) => {
          const res = await clientFrom(cmd).createUserToken(opts.username, opts.tokenname);
          // the value alone, so `TOKEN=$(agola user token create ...)` works
          writeOut(globalsOf(cmd).json ? `${JSON.stringify(res)}\n` : `${res.token}\n`);
        }),
      );
    token
      .command('delete')
      .description('delete an API token')
      .requiredOption('-n, --username <name>', 'user name or id')
      .requiredOption('-t, --tokenname <name>', 'token name')
      .action(
        cliAction(async (opts: { username: string; tokenname: string }, cmd) => {
          await clientFrom(cmd).deleteUserToken(opts.username, opts.tokenname);
          printDone(cmd, `token ${opts.tokenname} of user ${opts.username} deleted`);
        }),
      );

    const la = user.command('linkedaccount').description("manage a user's linked accounts");
    la.command('create')
      .description('link the user to an account on a remote source')
      .requiredOption('-n, --username <name>', 'user name or id')
      .requiredOption('-r, --remote-source <name>', 'remote source name')
      .option('--remote-name <name>', 'login name on the remote source (password sources)')
      .option('--remote-password <password>', 'password on the remote source (password sources)')
      .action(
        cliAction(
          async (
            opts: {
              username: string;
              remoteSource: string;
              remoteName?: string;
              remotePassword?: string;
            },
            cmd,
          ) => {
            const res = await clientFrom(cmd).createUserLA(opts.username, {
              remote_source_name: opts.remoteSource,
              ...(opts.remoteName !== undefined
                ? { remote_source_login_name: opts.remoteName }
                : {}),
              ...(opts.remotePassword !== undefined
                ? { remote_source_login_password: opts.remotePassword }
                : {}),
            });
            if (globalsOf(cmd).json) return writeOut(`${JSON.stringify(res, null, 2)}\n`);
            if (res.oauth2_redirect) {
              writeOut(`visit this URL to authorize the link: ${res.oauth2_redirect}\n`);
            } else {
              writeOut(`linked account ${res.linked_account?.id ?? ''} created\n`);
            }
          },
        ),
      );
    la.command('delete')
      .description('delete a linked account')
      .requiredOption('-n, --username <name>', 'user name or id')
      .requiredOption('--laid <id>', 'linked account id')
      .action(
        cliAction(async (opts: { username: string; laid: string }, cmd) => {
          await clientFrom(cmd).deleteUserLA(opts.username, opts.laid);
          printDone(cmd, `linked account ${opts.laid} deleted`);
        }),
      );
  },
};
