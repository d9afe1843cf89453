import type { CommandModule } from '../cli/program.js';
import { directrunCommands } from './directrun.js';
import { serveCommands } from './serve.js';
import { versionCommands } from './version.js';

/**
 * Every command group of `agola`, in help order. Adding a group is one line here.
 */
export const commandModules: readonly CommandModule[] = [
  serveCommands,
  versionCommands,
  directrunCommands,
];
