import type { Command } from 'commander';
import type {
  GatewayClient,
  RunOwner,
  RunPhase,
  RunResponse,
  RunResponseTask,
  RunResult,
  RunsResponse,
  RunTaskResponse,
} from '@agola-ts/gateway-client';
import { newError } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';
import { clientFrom } from '../cli/client.js';
import { globalsOf } from '../cli/global-options.js';
import { formatJson, formatTable, printDone, printList, writeOut } from '../cli/output.js';
import { cliAction, requireOneOf, type CommandModule } from '../cli/program.js';
import { enumListArg, positiveIntArg } from '../cli/validate.js';

const PHASES = [
  'setuperror',
  'queued',
  'cancelled',
  'running',
  'finished',
] as const satisfies readonly RunPhase[];
const RESULTS = ['unknown', 'stopped', 'success', 'failed'] as const satisfies readonly RunResult[];

/** The `--project` / `--username` options naming whose runs (exactly one). */
export interface OwnerOptions {
  project?: string;
  username?: string;
}

/** Adds `--project <ref>` and `--username <ref>` (one of them is required at run time). */
export function addOwnerOptions(cmd: Command): Command {
  return cmd
    .option('--project <ref>', "a project's runs: project id or path")
    .option('--username <name>', "a user's direct runs: user name or id");
}

/** Whose runs the options name. @throws `UsageError` (exit 2) unless exactly one is given. */
export function ownerOf(opts: OwnerOptions): RunOwner {
  const which = requireOneOf(opts as Record<string, unknown>, ['project', 'username']);
  return which === 'project'
    ? { kind: 'project', ref: opts.project ?? '' }
    : { kind: 'user', ref: opts.username ?? '' };
}

/**
 * The id of a run's task named by `--taskid` or `--taskname`.
 *
 * @throws `ERR_AGOLA_CLI_INPUT` when no task of the run has that name.
 */
export async function taskIdOf(
  gw: GatewayClient,
  owner: RunOwner,
  runNumber: number,
  opts: { taskid?: string; taskname?: string },
): Promise<string> {
  const which = requireOneOf(opts as Record<string, unknown>, ['taskid', 'taskname']);
  if (which === 'taskid') return opts.taskid ?? '';
  const run = await gw.getRun(owner, runNumber);
  const task = Object.values(run.tasks).find((t) => t.name === opts.taskname);
  if (!task) {
    throw newError(
      `run ${runNumber} has no task named "${opts.taskname}" (tasks: ${Object.values(run.tasks)
        .map((t) => t.name)
        .sort()
        .join(', ')})`,
      { code: AgolaAppErrorCodes.CliInput },
    );
  }
  return task.id;
}

function approvalOf(t: { waiting_approval: boolean; approved: boolean }): string {
  return t.waiting_approval ? 'waiting' : t.approved ? 'approved' : '';
}

/** The human text of `run show`: the run's fields, then its tasks by level and name. */
export function formatRun(run: RunResponse): string {
  const tasks = Object.values(run.tasks).sort(
    (a, b) => a.level - b.level || a.name.localeCompare(b.name),
  );
  const lines = [
    `run ${run.number}: ${run.name}`,
    `phase:   ${run.phase}${run.stopping ? ' (stopping)' : ''}`,
    `result:  ${run.result}`,
    `started: ${run.start_time ?? '-'}`,
    `ended:   ${run.end_time ?? '-'}`,
  ];
  if (run.annotations['commit_sha']) lines.push(`commit:  ${run.annotations['commit_sha']}`);
  for (const e of run.setup_errors) lines.push(`setup error: ${e}`);
  const table = formatTable<RunResponseTask>(tasks, [
    { header: 'task', value: (t) => t.name },
    { header: 'status', value: (t) => t.status },
    { header: 'level', value: (t) => t.level },
    { header: 'approval', value: approvalOf },
    { header: 'id', value: (t) => t.id },
  ]);
  return `${lines.join('\n')}\n\n${table}`;
}

/** The human text of `run show --taskname`: the task, then its setup and steps. */
export function formatTask(task: RunTaskResponse): string {
  const rows = [
    { n: 'setup', name: task.setup_step.name, phase: task.setup_step.phase, exit: '' },
    ...task.steps.map((s, i) => ({
      n: String(i),
      name: s.name,
      phase: s.phase,
      exit: s.exit_status === null ? '' : String(s.exit_status),
    })),
  ];
  return `task ${task.name} (${task.id}): ${task.status}\n\n${formatTable(rows, [
    { header: 'step', value: (r) => r.n },
    { header: 'name', value: (r) => r.name },
    { header: 'phase', value: (r) => r.phase },
    { header: 'exit', value: (r) => r.exit },
  ])}`;
}

function runAction(name: 'restart' | 'stop' | 'cancel', description: string) {
  return (run: Command) => {
    const c = addOwnerOptions(run.command(name).description(description)).requiredOption(
      '--runnumber <n>',
      'run number',
      positiveIntArg,
    );
    if (name === 'restart') {
      c.option('--from-start', 'restart every task, not only the failed ones', false);
    }
    c.action(
      cliAction(async (opts: OwnerOptions & { runnumber: number; fromStart?: boolean }, cmd) => {
        const owner = ownerOf(opts);
        const res = await clientFrom(cmd).runAction(owner, opts.runnumber, {
          action_type: name,
          ...(name === 'restart' ? { from_start: opts.fromStart === true } : {}),
        });
        if (globalsOf(cmd).json) return writeOut(formatJson(res));
        const verb = { restart: 'restarted', stop: 'stopping', cancel: 'cancelled' }[name];
        writeOut(
          name === 'restart'
            ? `run ${opts.runnumber} restarted as run ${res.number}\n`
            : `run ${opts.runnumber} ${verb}\n`,
        );
      }),
    );
  };
}

/** `agola run`: create, list, show runs and act on them. */
export const runCommands: CommandModule = {
  register(program: Command) {
    const run = program.command('run').description('manage runs');

    run
      .command('create')
      .description('start a run of a project at a branch, tag or ref')
      .requiredOption('--project <ref>', 'project id or path')
      .option('--branch <branch>', 'the branch')
      .option('--tag <tag>', 'the tag')
      .option('--ref <ref>', 'a git ref (refs/pull/1/head...)')
      .option('--commit-sha <sha>', 'the commit (default: the head of the branch, tag or ref)')
      .action(
        cliAction(
          async (
            opts: {
              project: string;
              branch?: string;
              tag?: string;
              ref?: string;
              commitSha?: string;
            },
            cmd,
          ) => {
            requireOneOf(opts as Record<string, unknown>, ['branch', 'tag', 'ref']);
            await clientFrom(cmd).projectCreateRun(opts.project, {
              ...(opts.branch !== undefined ? { branch: opts.branch } : {}),
              ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
              ...(opts.ref !== undefined ? { ref: opts.ref } : {}),
              ...(opts.commitSha !== undefined ? { commit_sha: opts.commitSha } : {}),
            });
            printDone(cmd, `run created for project ${opts.project}`);
          },
        ),
      );

    addOwnerOptions(run.command('list').description('list runs, newest first'))
      .option(
        '-s, --phase <phase>',
        `only runs in this phase (repeatable): ${PHASES.join(', ')}`,
        enumListArg(PHASES),
      )
      .option(
        '--result <result>',
        `only runs with this result (repeatable): ${RESULTS.join(', ')}`,
        enumListArg(RESULTS),
      )
      .option('--limit <n>', 'at most this many', positiveIntArg, 10)
      .option('--start <n>', 'only runs older than this run number', positiveIntArg)
      .action(
        cliAction(
          async (
            opts: OwnerOptions & {
              phase?: RunPhase[];
              result?: RunResult[];
              limit: number;
              start?: number;
            },
            cmd,
          ) => {
            const owner = ownerOf(opts);
            const runs = await clientFrom(cmd).getRuns(owner, {
              ...(opts.phase ? { phase: opts.phase } : {}),
              ...(opts.result ? { result: opts.result } : {}),
              limit: opts.limit,
              ...(opts.start !== undefined ? { start: opts.start } : {}),
            });
            printList<RunsResponse>(cmd, runs, [
              { header: 'number', value: (r) => r.number },
              { header: 'name', value: (r) => r.name },
              { header: 'phase', value: (r) => r.phase },
              { header: 'result', value: (r) => r.result },
              { header: 'started', value: (r) => r.start_time ?? '' },
              { header: 'ended', value: (r) => r.end_time ?? '' },
            ]);
          },
        ),
      );

    addOwnerOptions(
      run.command('show').description('show a run and its tasks (or one task and its steps)'),
    )
      .requiredOption('--runnumber <n>', 'run number', positiveIntArg)
      .option('--taskname <name>', 'show this task and its steps')
      .option('--taskid <id>', 'show this task (by id) and its steps')
      .action(
        cliAction(
          async (
            opts: OwnerOptions & { runnumber: number; taskname?: string; taskid?: string },
            cmd,
          ) => {
            const owner = ownerOf(opts);
            const gw = clientFrom(cmd);
            const json = globalsOf(cmd).json;
            if (opts.taskname !== undefined || opts.taskid !== undefined) {
              const id = await taskIdOf(gw, owner, opts.runnumber, opts);
              const task = await gw.getRunTask(owner, opts.runnumber, id);
              return writeOut(json ? formatJson(task) : formatTask(task));
            }
            const r = await gw.getRun(owner, opts.runnumber);
            writeOut(json ? formatJson(r) : formatRun(r));
          },
        ),
      );

    runAction(
      'restart',
      'restart a finished run (the failed tasks, or all with --from-start)',
    )(run);
    runAction('stop', 'stop a running run (its running tasks are stopped)')(run);
    runAction('cancel', 'cancel a queued run')(run);

    const task = run.command('task').description("act on a run's tasks");
    addOwnerOptions(task.command('approve').description('approve a task waiting for approval'))
      .requiredOption('--runnumber <n>', 'run number', positiveIntArg)
      .option('--taskname <name>', 'task name')
      .option('--taskid <id>', 'task id')
      .action(
        cliAction(
          async (
            opts: OwnerOptions & { runnumber: number; taskname?: string; taskid?: string },
            cmd,
          ) => {
            const owner = ownerOf(opts);
            const gw = clientFrom(cmd);
            const id = await taskIdOf(gw, owner, opts.runnumber, opts);
            await gw.approveRunTask(owner, opts.runnumber, id);
            printDone(cmd, `task ${opts.taskname ?? id} of run ${opts.runnumber} approved`);
          },
        ),
      );
  },
};
