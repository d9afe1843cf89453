import type { Command } from 'commander';
import type { ProjectGroupResponse, Visibility } from '@agola-ts/gateway-client';
import { clientFrom } from '../cli/client.js';
import { printDone, printItem, printList } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { enumArg, nameArg } from '../cli/validate.js';
import { registerItemCommands } from './items.js';
import { VISIBILITIES } from './org.js';

/** The fields of a project group as the CLI prints them. */
export const projectGroupFields = [
  { header: 'id', value: (p: ProjectGroupResponse) => p.id },
  { header: 'name', value: (p: ProjectGroupResponse) => p.name },
  { header: 'path', value: (p: ProjectGroupResponse) => p.path },
  { header: 'visibility', value: (p: ProjectGroupResponse) => p.visibility },
];

/** `agola projectgroup`: project groups, their secrets and variables. */
export const projectGroupCommands: CommandModule = {
  register(program: Command) {
    const pg = program.command('projectgroup').description('manage project groups');

    pg.command('create')
      .description('create a project group')
      .requiredOption('-n, --name <name>', 'project group name', nameArg)
      .requiredOption('--parent <ref>', 'parent group: id or path (org/acme, user/alice)')
      .option('--visibility <v>', 'public or private', enumArg(VISIBILITIES), 'public')
      .action(
        cliAction(async (opts: { name: string; parent: string; visibility: Visibility }, cmd) => {
          const created = await clientFrom(cmd).createProjectGroup({
            name: opts.name,
            parent_ref: opts.parent,
            visibility: opts.visibility,
          });
          printItem(cmd, created, projectGroupFields);
        }),
      );

    pg.command('delete')
      .description('delete a project group')
      .requiredOption('--ref <ref>', 'project group id or path')
      .action(
        cliAction(async (opts: { ref: string }, cmd) => {
          await clientFrom(cmd).deleteProjectGroup(opts.ref);
          printDone(cmd, `project group ${opts.ref} deleted`);
        }),
      );

    pg.command('update')
      .description('rename, move or change the visibility of a project group')
      .requiredOption('--ref <ref>', 'project group id or path')
      .option('-n, --name <name>', 'new name', nameArg)
      .option('--parent <ref>', 'new parent group')
      .option('--visibility <v>', 'public or private', enumArg(VISIBILITIES))
      .action(
        cliAction(
          async (
            opts: { ref: string; name?: string; parent?: string; visibility?: Visibility },
            cmd,
          ) => {
            const updated = await clientFrom(cmd).updateProjectGroup(opts.ref, {
              ...(opts.name !== undefined ? { name: opts.name } : {}),
              ...(opts.parent !== undefined ? { parent_ref: opts.parent } : {}),
              ...(opts.visibility !== undefined ? { visibility: opts.visibility } : {}),
            });
            printItem(cmd, updated, projectGroupFields);
          },
        ),
      );

    pg.command('list')
      .description('list the sub groups of a project group')
      .requiredOption('--parent <ref>', 'project group id or path')
      .action(
        cliAction(async (opts: { parent: string }, cmd) => {
          const list = await clientFrom(cmd).getProjectGroupSubgroups(opts.parent);
          printList(cmd, list, projectGroupFields);
        }),
      );

    registerItemCommands(pg, 'projectgroup');
  },
};
