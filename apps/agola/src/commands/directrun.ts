import { Option, type Command } from 'commander';
import { createGatewayClient } from '@agola-ts/gateway-client';
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

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The global options this command reads (`--gateway-url`, `--token`). */
function globals(cmd: Command): { gatewayUrl: string; token?: string } {
  const o = cmd.optsWithGlobals<{ gatewayUrl?: string; token?: string }>();
  const gatewayUrl = o.gatewayUrl ?? process.env['AGOLA_GATEWAY_URL'] ?? 'http://localhost:8000';
  const token = o.token ?? process.env['AGOLA_TOKEN'];
  return { gatewayUrl, ...(token ? { token } : {}) };
}

/**
 * `agola directrun start`: runs the repository in the current directory on Agola, as it is in
 * the work tree (uncommitted and untracked files included), and follows the run to its end.
 */
export const directrunCommands = {
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
        new Option('--untracked [bool]', 'include untracked files')
          .default(true)
          .argParser((v: string) => v !== 'false'),
      )
      .option('--no-untracked', 'leave untracked files out')
      .option('--ignored', 'include ignored files too', false)
      .option('--branch <name>', 'the branch the run is for (default master)')
      .option('--tag <name>', 'run as a tag instead of a branch')
      .option('--ref <ref>', 'run as this full git ref (refs/pull/1/head...)')
      .option(
        '--pull-request-ref-regexes <regexes>',
        'regexes (comma-separated, repeatable) telling a pull request ref (default refs/pull/(\\d+)/head, refs/merge-requests/(\\d+)/head)',
        collect,
      )
      .option(
        '--var <name=value>',
        'a variable of the run (repeatable; wins over --var-file)',
        collect,
      )
      .option('--var-file <file>', 'a YAML or JSON map of variables (repeatable)', collect)
      .option('--no-follow', 'return once the run is created, without following it')
      .action(async (opts: DirectRunStartFlags, cmd: Command) => {
        const g = globals(cmd);
        const target = targetOf(opts);
        const prRefRegexes = prRefRegexesOf(opts.pullRequestRefRegexes);
        const variables = await variablesOf(opts.var, opts.varFile);
        const out = createRunOutput({ stdout: process.stdout, stderr: process.stderr });
        const abort = new AbortController();
        const onSignal = () => {
          out.done();
          process.stderr.write('\nagola: stopped following; the run goes on\n');
          abort.abort();
          process.exit(130);
        };
        process.once('SIGINT', onSignal);
        try {
          const result = await directRunStart({
            client: createGatewayClient({
              baseUrl: g.gatewayUrl,
              ...(g.token ? { token: g.token } : {}),
              signal: abort.signal,
            }),
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
          process.exitCode = result.exitCode;
        } finally {
          process.off('SIGINT', onSignal);
        }
      });
  },
};
