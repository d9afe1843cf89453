import type { CommandModule } from '../cli/program.js';
import { completionCommands } from './completion.js';
import { directrunCommands } from './directrun.js';
import { logCommands } from './log.js';
import { maintenanceCommands } from './maintenance.js';
import { orgCommands } from './org.js';
import { projectCommands } from './project.js';
import { projectGroupCommands } from './projectgroup.js';
import { remoteSourceCommands } from './remotesource.js';
import { runCommands } from './run.js';
import { serveCommands } from './serve.js';
import { userCommands } from './user.js';
import { versionCommands } from './version.js';

/**
 * Every command group of `agola`, in help order. Adding a group is one line here.
 */
export const commandModules: readonly CommandModule[] = [
  serveCommands,
  versionCommands,
  userCommands,
  orgCommands,
  projectGroupCommands,
  projectCommands,
  remoteSourceCommands,
  runCommands,
  logCommands,
  maintenanceCommands,
  directrunCommands,
  completionCommands,
];
