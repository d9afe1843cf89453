import { Command, CommanderError } from 'commander';
import { errorLine, exitCodeOf, formatCliError, UsageError } from './errors.js';
import { addGlobalOptions, globalsOf } from './global-options.js';

/** A group of commands (`user`, `org`...): adds itself to the root command. */
export interface CommandModule {
  /** Adds the group's commands to `program` (with `program.command(...)`, so they inherit the exit handling). */
  register(program: Command): void;
}

/**
 * Wraps a command's action: the options and the command are passed on; a failure is printed
 * on stderr (one line, or the detailed chain with `--detailed-errors`) and sets the exit code
 * (1, or 2 for a {@link UsageError}). The token is never part of what is printed: errors
 * carry method and path only.
 *
 * @example
 * ```ts
 * group.command('delete').requiredOption('-n, --name <name>', 'org name', nameArg)
 *   .action(cliAction(async (opts: { name: string }, cmd) => {
 *     await clientFrom(cmd).deleteOrg(opts.name);
 *     printDone(cmd, `org ${opts.name} deleted`);
 *   }));
 * ```
 */
export function cliAction<O>(
  fn: (opts: O, cmd: Command, args: string[]) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    try {
      await fn(cmd.opts<O & object>() as O, cmd, cmd.args);
    } catch (err) {
      reportFailure(cmd, err);
    }
  };
}

/** Prints a failed command's error and sets `process.exitCode`. */
export function reportFailure(cmd: Command, err: unknown): void {
  const code = exitCodeOf(err);
  if (code === 2) {
    // like commander's own usage errors
    process.stderr.write(`error: ${errorLine(err)}\n(run with --help for usage)\n`);
  } else {
    process.stderr.write(`${formatCliError(err, globalsOf(cmd).detailedErrors)}\n`);
  }
  process.exitCode = code;
}

/**
 * Throws a {@link UsageError} (exit 2) unless exactly one of the named options is set
 * (`--project` or `--username`...). Give `atMost: true` to allow none.
 */
export function requireOneOf(
  opts: Record<string, unknown>,
  names: readonly string[],
  options: { atMost?: boolean } = {},
): string | undefined {
  const flag = (n: string) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const set = names.filter((n) => opts[n] !== undefined && opts[n] !== false);
  if (set.length > 1) {
    throw new UsageError(`only one of ${names.map(flag).join(', ')} may be given`);
  }
  if (set.length === 0 && !options.atMost) {
    throw new UsageError(`one of ${names.map(flag).join(', ')} is required`);
  }
  return set[0];
}

/**
 * The root `agola` command with the global options and the given command groups. Usage
 * errors (unknown command or flag, a bad flag value, a missing required flag) exit 2;
 * `--help` and `--version` exit 0.
 */
export function createProgram(modules: readonly CommandModule[]): Command {
  const program = new Command('agola')
    .description('Agola-TS: CI/CD')
    .showHelpAfterError('(run with --help for usage)')
    // subcommands created with .command() inherit it
    .exitOverride((err: CommanderError) => {
      // 0 for --help and --version; a group called without a subcommand prints its help
      // with exit code 1, a usage error too
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  addGlobalOptions(program);
  for (const m of modules) m.register(program);
  return program;
}
