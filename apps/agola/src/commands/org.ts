import type { Command } from 'commander';
import type { MemberRole, OrgResponse, Visibility } from '@agola-ts/gateway-client';
import { clientFrom } from '../cli/client.js';
import { printDone, printItem, printList } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { enumArg, nameArg, positiveIntArg } from '../cli/validate.js';

/** The visibilities of orgs, project groups and projects. */
export const VISIBILITIES = ['public', 'private'] as const satisfies readonly Visibility[];
const ROLES = ['owner', 'member'] as const satisfies readonly MemberRole[];

const orgFields = [
  { header: 'id', value: (o: OrgResponse) => o.id },
  { header: 'name', value: (o: OrgResponse) => o.name },
  { header: 'visibility', value: (o: OrgResponse) => o.visibility },
];

/** `agola org`: organizations and their members. */
export const orgCommands: CommandModule = {
  register(program: Command) {
    const org = program.command('org').description('manage organizations');

    org
      .command('create')
      .description('create an organization (you become its owner)')
      .requiredOption('-n, --name <name>', 'organization name', nameArg)
      .option('--visibility <v>', 'public or private', enumArg(VISIBILITIES), 'public')
      .action(
        cliAction(async (opts: { name: string; visibility: Visibility }, cmd) => {
          const created = await clientFrom(cmd).createOrg({
            name: opts.name,
            visibility: opts.visibility,
          });
          printItem(cmd, created, orgFields);
        }),
      );

    org
      .command('delete')
      .description('delete an organization (owner)')
      .requiredOption('-n, --name <name>', 'organization name or id')
      .action(
        cliAction(async (opts: { name: string }, cmd) => {
          await clientFrom(cmd).deleteOrg(opts.name);
          printDone(cmd, `organization ${opts.name} deleted`);
        }),
      );

    org
      .command('list')
      .description('list organizations')
      .option('--limit <n>', 'at most this many', positiveIntArg)
      .option('--start <name>', 'start after this name')
      .action(
        cliAction(async (opts: { limit?: number; start?: string }, cmd) => {
          const orgs = await clientFrom(cmd).getOrgs({
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
            ...(opts.start !== undefined ? { start: opts.start } : {}),
            asc: true,
          });
          printList(cmd, orgs, orgFields);
        }),
      );

    const member = org.command('member').description("manage an organization's members");
    member
      .command('add')
      .description('add a member, or change its role (owner)')
      .requiredOption('-n, --orgname <name>', 'organization name or id')
      .requiredOption('--username <name>', 'user name or id')
      .option('-r, --role <role>', 'owner or member', enumArg(ROLES), 'member')
      .action(
        cliAction(async (opts: { orgname: string; username: string; role: MemberRole }, cmd) => {
          const res = await clientFrom(cmd).addOrgMember(opts.orgname, opts.username, opts.role);
          printItem(cmd, res, [
            { header: 'organization', value: (r) => r.organization.name },
            { header: 'user', value: (r) => r.user.username },
            { header: 'role', value: (r) => r.role },
          ]);
        }),
      );
    member
      .command('list')
      .description("list an organization's members")
      .requiredOption('-n, --orgname <name>', 'organization name or id')
      .action(
        cliAction(async (opts: { orgname: string }, cmd) => {
          const res = await clientFrom(cmd).getOrgMembers(opts.orgname);
          printList(cmd, res.members, [
            { header: 'username', value: (m) => m.user.username },
            { header: 'role', value: (m) => m.role },
            { header: 'id', value: (m) => m.user.id },
          ]);
        }),
      );
    member
      .command('remove')
      .description('remove a member (owner)')
      .requiredOption('-n, --orgname <name>', 'organization name or id')
      .requiredOption('--username <name>', 'user name or id')
      .action(
        cliAction(async (opts: { orgname: string; username: string }, cmd) => {
          await clientFrom(cmd).removeOrgMember(opts.orgname, opts.username);
          printDone(cmd, `${opts.username} removed from ${opts.orgname}`);
        }),
      );
  },
};
