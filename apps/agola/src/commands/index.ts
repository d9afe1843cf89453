import type { CommandModule } from '../cli/program.js';
import { serveCommands } from './serve.js';
import { versionCommands } from './version.js';

/**
 * Every command group of `agola`, in help order. Adding a group is one line here.
 */
export const commandModules: readonly CommandModule[] = [
  serveCommands,
  versionCommands,
  // directrun registered by commands/directrun.ts
];
