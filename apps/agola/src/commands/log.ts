import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { LogSelector } from '@agola-ts/gateway-client';
import { wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';
import { clientFrom } from '../cli/client.js';
import { printDone, progress } from '../cli/output.js';
import { cliAction, requireOneOf, type CommandModule } from '../cli/program.js';
import { intArg, positiveIntArg } from '../cli/validate.js';
import { addOwnerOptions, ownerOf, taskIdOf, type OwnerOptions } from './run.js';

interface LogOptions extends OwnerOptions {
  runnumber: number;
  taskname?: string;
  taskid?: string;
  step?: number;
  setup?: boolean;
}

function selectorOf(opts: LogOptions): LogSelector {
  const which = requireOneOf(opts as unknown as Record<string, unknown>, ['step', 'setup']);
  return which === 'setup' ? { setup: true } : { step: opts.step ?? 0 };
}

function addSelectors(cmd: Command): Command {
  return addOwnerOptions(cmd)
    .requiredOption('--runnumber <n>', 'run number', positiveIntArg)
    .option('--taskname <name>', 'task name')
    .option('--taskid <id>', 'task id')
    .option('--step <n>', 'step number (0 is the first step)', intArg)
    .option('--setup', "the task's setup log");
}

/** `agola log`: read (and follow) or delete a step's log. */
export const logCommands: CommandModule = {
  register(program: Command) {
    const log = program.command('log').description("read or delete a run task's logs");

    addSelectors(
      log.command('get').description("print a step's log (--follow: until the step ends)"),
    )
      .option('--follow', 'keep printing while the step runs, until it ends', false)
      .option('-o, --output <file>', 'write the log to this file instead of stdout')
      .action(
        cliAction(async (opts: LogOptions & { follow: boolean; output?: string }, cmd) => {
          const owner = ownerOf(opts);
          const which = selectorOf(opts);
          const gw = clientFrom(cmd);
          const taskId = await taskIdOf(gw, owner, opts.runnumber, opts);
          const p = progress();
          if (opts.follow) p.update(`waiting for the log of run ${opts.runnumber}...`);
          const chunks = await gw.getLogs(owner, opts.runnumber, taskId, {
            ...which,
            ...(opts.follow ? { follow: true } : {}),
          });
          let first = true;
          const source = Readable.from(
            (async function* () {
              for await (const c of chunks) {
                if (first) {
                  first = false;
                  p.done();
                }
                yield c;
              }
            })(),
          );
          const sink: Writable = opts.output
            ? createWriteStream(opts.output)
            : new Writable({
                write(chunk: Buffer, _enc, cb) {
                  // stdout may be a pipe closed early (| head): stop quietly then
                  process.stdout.write(chunk, (err) => cb(err ?? undefined));
                },
              });
          try {
            await pipeline(source, sink);
          } catch (err) {
            throw wrap(err, 'reading the log', { code: AgolaAppErrorCodes.CliFailed });
          } finally {
            p.done();
          }
        }),
      );

    addSelectors(log.command('delete').description("delete a step's log")).action(
      cliAction(async (opts: LogOptions, cmd) => {
        const owner = ownerOf(opts);
        const which = selectorOf(opts);
        const gw = clientFrom(cmd);
        const taskId = await taskIdOf(gw, owner, opts.runnumber, opts);
        await gw.deleteLogs(owner, opts.runnumber, taskId, which);
        printDone(cmd, 'log deleted');
      }),
    );
  },
};
