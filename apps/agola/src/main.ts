#!/usr/bin/env node
import { reportFailure, createProgram } from './cli/program.js';
import { commandModules } from './commands/index.js';

const program = createProgram(commandModules);
program.parseAsync().catch((err: unknown) => reportFailure(program, err));
