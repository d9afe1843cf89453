import { Option, type Command } from 'commander';
import { is } from '@agola-ts/errors';
import { clientFrom } from '../cli/client.js';
import { UsageError } from '../cli/errors.js';
import { globalsOf } from '../cli/global-options.js';
import { formatJson, writeOut } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { boolArg, collectArg } from '../cli/validate.js';
import { AgolaAppErrorCodes } from '../codes.js';
import { createRunOutput } from '../directrun/output.js';
import { prRefRegexesOf, targetOf, variablesOf } from '../directrun/flags.js';
import { directRunStart } from '../directrun/start.js';

/** The options of `agola directrun start` as commander parses them. */
interface DirectRunStartFlags {
  untracked: boolean;
  ignored: boolean;
  branch?: string;
  tag?: string;
  ref?: string;
  pullRequestRefRegexes?: string[];
  var?: string[];
  varFile?: string[];
  follow: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Flag problems found after parsing are usage errors (exit code 2), like commander's own. */
async function usage<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (is(err, AgolaAppErrorCodes.DirectRunFlags)) throw new UsageError((err as Error).message);
    throw err;
  }
}

/**
 * `agola directrun start`: runs the repository in the current directory on Agola, as it is in
 * the work tree (uncommitted and untracked files included), and follows the run to its end.
 */
export const directrunCommands: CommandModule = {
  register(program: Command): void {
    const group = program.command('directrun').description('direct runs of a local repository');
    group
      .command('start')
      .description(
        'save the work tree (uncommitted and untracked files too) as a commit, push it to the ' +
          "gateway's git server, start a direct run and stream its logs until it ends " +
          '(exit code 0 when every run succeeded)',
      )
      .addOption(
        new Option('--untracked [bool]', 'include untracked files (true or false)')
          .default(true)
          .argParser(boolArg),
      )
      .option('--no-untracked', 'leave untracked files out')
      .option('--ignored', 'include ignored files too', false)
      .option('--branch <name>', 'the branch the run is for (default master)')
      .option('--tag <name>', 'run as a tag instead of a branch')
      .option('--ref <ref>', 'run as this full git ref (refs/pull/1/head...)')
      .option(
        '--pull-request-ref-regexes <regexes>',
        'regexes (comma-separated, repeatable) telling a pull request ref (default refs/pull/(\\d+)/head, refs/merge-requests/(\\d+)/head)',
        collectArg,
      )
      .option(
        '--var <name=value>',
        'a variable of the run (repeatable; wins over --var-file)',
        collectArg,
      )
      .option('--var-file <file>', 'a YAML or JSON map of variables (repeatable)', collectArg)
      .option('--no-follow', 'return once the run is created, without following it')
      .action(
        cliAction(async (opts: DirectRunStartFlags, cmd: Command) => {
          const g = globalsOf(cmd);
          const target = await usage(() => targetOf(opts));
          const prRefRegexes = await usage(() => prRefRegexesOf(opts.pullRequestRefRegexes));
          const variables = await usage(() => variablesOf(opts.var, opts.varFile));
          if (!g.token)
            throw new UsageError('a user token is needed: give --token or set AGOLA_TOKEN');
          // with --json, stdout holds only the result: the logs go to stderr
          const out = createRunOutput({
            stdout: g.json ? process.stderr : process.stdout,
            stderr: process.stderr,
          });
          const abort = new AbortController();
          const onSignal = () => {
            out.done();
            process.stderr.write('agola: stopped following; the run goes on\n');
            abort.abort();
            process.exit(130);
          };
          process.once('SIGINT', onSignal);
          try {
            const result = await directRunStart({
              // (log streams have no timeout; the other requests the client's default)
              client: clientFrom(cmd, { signal: abort.signal }),
              gatewayURL: g.gatewayUrl,
              token: g.token,
              cwd: process.cwd(),
              untracked: opts.untracked,
              ignored: opts.ignored,
              target,
              prRefRegexes,
              variables,
              out,
              follow: opts.follow,
              signal: abort.signal,
            });
            if (result.firstLogAt !== undefined) {
              out.note(
                `agola: first log line ${seconds(result.firstLogAt - result.pushedAt)} after the push, ${seconds(Date.now() - result.startedAt)} in all`,
              );
            }
            if (g.json) {
              writeOut(
                formatJson({
                  commit_sha: result.commitSHA,
                  repo_path: result.repoPath,
                  runs:
                    result.runs.length > 0
                      ? result.runs
                      : result.runNumbers.map((number) => ({ number })),
                  first_log_after_push_ms:
                    result.firstLogAt !== undefined ? result.firstLogAt - result.pushedAt : null,
                }),
              );
            }
            process.exitCode = result.exitCode;
          } finally {
            process.off('SIGINT', onSignal);
          }
        }),
      );
  },
};
