import type { Command } from 'commander';
import type { ProjectResponse, Visibility } from '@agola-ts/gateway-client';
import { clientFrom } from '../cli/client.js';
import { printDone, printItem, printList } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { boolArg, enumArg, nameArg } from '../cli/validate.js';
import { registerItemCommands } from './items.js';
import { VISIBILITIES } from './org.js';

const projectFields = [
  { header: 'id', value: (p: ProjectResponse) => p.id },
  { header: 'name', value: (p: ProjectResponse) => p.name },
  { header: 'path', value: (p: ProjectResponse) => p.path },
  { header: 'visibility', value: (p: ProjectResponse) => p.visibility },
];

/** `agola project`: projects, their secrets and variables. */
export const projectCommands: CommandModule = {
  register(program: Command) {
    const project = program.command('project').description('manage projects');

    project
      .command('create')
      .description('create a project of a repository on a remote source')
      .requiredOption('-n, --name <name>', 'project name', nameArg)
      .requiredOption('--parent <ref>', 'parent group: id or path (org/acme, user/alice)')
      .requiredOption('--repo-path <path>', 'repository path on the remote source (owner/repo)')
      .requiredOption('--remote-source <name>', 'remote source name')
      .option('--visibility <v>', 'public or private', enumArg(VISIBILITIES), 'public')
      .option('--skip-ssh-host-key-check', "don't check the forge's ssh host key", false)
      .option('--pass-vars-to-forked-pr', 'pass variables to runs of forked pull requests', false)
      .action(
        cliAction(
          async (
            opts: {
              name: string;
              parent: string;
              repoPath: string;
              remoteSource: string;
              visibility: Visibility;
              skipSshHostKeyCheck: boolean;
              passVarsToForkedPr: boolean;
            },
            cmd,
          ) => {
            const created = await clientFrom(cmd).createProject({
              name: opts.name,
              parent_ref: opts.parent,
              repo_path: opts.repoPath,
              remote_source_name: opts.remoteSource,
              visibility: opts.visibility,
              skip_ssh_host_key_check: opts.skipSshHostKeyCheck,
              pass_vars_to_forked_pr: opts.passVarsToForkedPr,
            });
            printItem(cmd, created, projectFields);
          },
        ),
      );

    project
      .command('delete')
      .description('delete a project (and its deploy key and webhook on the forge)')
      .requiredOption('--ref <ref>', 'project id or path')
      .action(
        cliAction(async (opts: { ref: string }, cmd) => {
          await clientFrom(cmd).deleteProject(opts.ref);
          printDone(cmd, `project ${opts.ref} deleted`);
        }),
      );

    project
      .command('update')
      .description('rename, move or change a project')
      .requiredOption('--ref <ref>', 'project id or path')
      .option('-n, --name <name>', 'new name', nameArg)
      .option('--parent <ref>', 'new parent group')
      .option('--visibility <v>', 'public or private', enumArg(VISIBILITIES))
      .option('--pass-vars-to-forked-pr <bool>', 'true or false', boolArg)
      .action(
        cliAction(
          async (
            opts: {
              ref: string;
              name?: string;
              parent?: string;
              visibility?: Visibility;
              passVarsToForkedPr?: boolean;
            },
            cmd,
          ) => {
            const updated = await clientFrom(cmd).updateProject(opts.ref, {
              ...(opts.name !== undefined ? { name: opts.name } : {}),
              ...(opts.parent !== undefined ? { parent_ref: opts.parent } : {}),
              ...(opts.visibility !== undefined ? { visibility: opts.visibility } : {}),
              ...(opts.passVarsToForkedPr !== undefined
                ? { pass_vars_to_forked_pr: opts.passVarsToForkedPr }
                : {}),
            });
            printItem(cmd, updated, projectFields);
          },
        ),
      );

    project
      .command('list')
      .description('list the projects of a project group')
      .requiredOption('--parent <ref>', 'project group id or path')
      .action(
        cliAction(async (opts: { parent: string }, cmd) => {
          const list = await clientFrom(cmd).getProjectGroupProjects(opts.parent);
          printList(cmd, list, projectFields);
        }),
      );

    project
      .command('reconfig')
      .description("re-create the project's deploy key and webhook on the forge")
      .requiredOption('-n, --name <ref>', 'project id or path')
      .action(
        cliAction(async (opts: { name: string }, cmd) => {
          await clientFrom(cmd).reconfigProject(opts.name);
          printDone(cmd, `project ${opts.name} reconfigured`);
        }),
      );

    registerItemCommands(project, 'project');
  },
};
