import type { Command } from 'commander';
import type {
  CreateRemoteSourceRequest,
  RemoteSourceResponse,
  UpdateRemoteSourceRequest,
} from '@agola-ts/gateway-client';
import { clientFrom } from '../cli/client.js';
import { printItem, printList } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { boolArg, enumArg, nameArg, positiveIntArg } from '../cli/validate.js';

const TYPES = ['gitea', 'github', 'gitlab'] as const;
const AUTH_TYPES = ['password', 'oauth2'] as const;

const rsFields = [
  { header: 'id', value: (r: RemoteSourceResponse) => r.id },
  { header: 'name', value: (r: RemoteSourceResponse) => r.name },
  { header: 'auth type', value: (r: RemoteSourceResponse) => r.auth_type },
  { header: 'registration', value: (r: RemoteSourceResponse) => r.registration_enabled },
  { header: 'login', value: (r: RemoteSourceResponse) => r.login_enabled },
];

interface RsOpts {
  name?: string;
  newName?: string;
  type?: CreateRemoteSourceRequest['type'];
  authType?: CreateRemoteSourceRequest['auth_type'];
  apiUrl?: string;
  skipVerify?: boolean;
  clientid?: string;
  secret?: string;
  sshHostKey?: string;
  skipSshHostKeyCheck?: boolean;
  registrationEnabled?: boolean;
  loginEnabled?: boolean;
}

/** `remotesource create`'s options: commander checks the required ones. */
interface RsCreateOpts extends RsOpts {
  name: string;
  type: CreateRemoteSourceRequest['type'];
  authType: CreateRemoteSourceRequest['auth_type'];
  apiUrl: string;
}

function common(o: RsOpts): UpdateRemoteSourceRequest {
  return {
    ...(o.apiUrl !== undefined ? { apiurl: o.apiUrl } : {}),
    ...(o.skipVerify !== undefined ? { skip_verify: o.skipVerify } : {}),
    ...(o.clientid !== undefined ? { oauth_2_client_id: o.clientid } : {}),
    ...(o.secret !== undefined ? { oauth_2_client_secret: o.secret } : {}),
    ...(o.sshHostKey !== undefined ? { ssh_host_key: o.sshHostKey } : {}),
    ...(o.skipSshHostKeyCheck !== undefined
      ? { skip_ssh_host_key_check: o.skipSshHostKeyCheck }
      : {}),
    ...(o.registrationEnabled !== undefined ? { registration_enabled: o.registrationEnabled } : {}),
    ...(o.loginEnabled !== undefined ? { login_enabled: o.loginEnabled } : {}),
  };
}

/** `agola remotesource`: the git forges users log in with and projects build from (admin). */
export const remoteSourceCommands: CommandModule = {
  register(program: Command) {
    const rs = program.command('remotesource').description('manage remote sources (admin)');

    rs.command('create')
      .description('create a remote source (admin)')
      .requiredOption('-n, --name <name>', 'remote source name', nameArg)
      .requiredOption('--type <type>', 'gitea, github or gitlab', enumArg(TYPES))
      .requiredOption('--auth-type <type>', 'password or oauth2', enumArg(AUTH_TYPES))
      .requiredOption('--api-url <url>', "the forge's API URL")
      .option('--skip-verify', "don't verify the forge's TLS certificate")
      .option('--clientid <id>', 'OAuth2 client id')
      .option('--secret <secret>', 'OAuth2 client secret')
      .option('--ssh-host-key <key>', "the forge's ssh host key")
      .option('-s, --skip-ssh-host-key-check', "don't check the forge's ssh host key")
      .option('--registration-enabled <bool>', 'users may register with it', boolArg, true)
      .option('--login-enabled <bool>', 'users may log in with it', boolArg, true)
      .action(
        cliAction(async (opts: RsCreateOpts, cmd) => {
          const created = await clientFrom(cmd).createRemoteSource({
            name: opts.name,
            type: opts.type,
            auth_type: opts.authType,
            apiurl: opts.apiUrl,
            ...common(opts),
          });
          printItem(cmd, created, rsFields);
        }),
      );

    rs.command('update')
      .description('update a remote source (admin)')
      .requiredOption('--ref <ref>', 'remote source name or id')
      .option('--new-name <name>', 'new name', nameArg)
      .option('--api-url <url>', "the forge's API URL")
      .option('--skip-verify <bool>', "true: don't verify the forge's TLS certificate", boolArg)
      .option('--clientid <id>', 'OAuth2 client id')
      .option('--secret <secret>', 'OAuth2 client secret')
      .option('--ssh-host-key <key>', "the forge's ssh host key")
      .option('-s, --skip-ssh-host-key-check <bool>', "true: don't check the ssh host key", boolArg)
      .option('--registration-enabled <bool>', 'users may register with it', boolArg)
      .option('--login-enabled <bool>', 'users may log in with it', boolArg)
      .action(
        cliAction(async (opts: RsOpts & { ref: string }, cmd) => {
          const updated = await clientFrom(cmd).updateRemoteSource(opts.ref, {
            ...(opts.newName !== undefined ? { name: opts.newName } : {}),
            ...common(opts),
          });
          printItem(cmd, updated, rsFields);
        }),
      );

    rs.command('list')
      .description('list remote sources')
      .option('--limit <n>', 'at most this many', positiveIntArg)
      .option('--start <name>', 'start after this name')
      .action(
        cliAction(async (opts: { limit?: number; start?: string }, cmd) => {
          const list = await clientFrom(cmd).getRemoteSources({
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
            ...(opts.start !== undefined ? { start: opts.start } : {}),
            asc: true,
          });
          printList(cmd, list, rsFields);
        }),
      );
  },
};
