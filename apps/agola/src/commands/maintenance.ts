import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type {
  GatewayClient,
  MaintenanceService,
  MaintenanceStatusResponse,
} from '@agola-ts/gateway-client';
import { as, newError, RemoteError, wrap } from '@agola-ts/errors';
import { AgolaAppErrorCodes } from '../codes.js';
import { clientFrom } from '../cli/client.js';
import { formatBytes, printDone, progress, type Progress } from '../cli/output.js';
import { cliAction, type CommandModule } from '../cli/program.js';
import { errorLine } from '../cli/errors.js';
import { enumArg, positiveIntArg } from '../cli/validate.js';

/** The services with data to export, import and a maintenance mode. */
export const SERVICES = [
  'configstore',
  'runservice',
] as const satisfies readonly MaintenanceService[];

/** How long `import <file>` retries while the service is still switching to maintenance. */
const SWITCH_WAIT_MS = 20_000;

/** How long `maintenance enable|disable` waits for the switch by default (seconds). */
const DEFAULT_SWITCH_TIMEOUT_S = 60;

/** How often `maintenance enable|disable` asks for the service's mode while it waits. */
const STATUS_POLL_MS = 250;

/**
 * Waits until `service` reports that it serves maintenance mode (`maintenance` true) or
 * normal mode, asking the gateway's `GET /maintenance/{service}`. While the service switches
 * it restarts its routes: the gateway's 5xx and connection errors are waited through; a 4xx
 * (403, a gateway without the route) ends the wait at once.
 *
 * @throws `ERR_AGOLA_CLI_TIMEOUT` after `timeoutMs`, saying what the service reported last;
 *   `ERR_AGOLA_CLI_FAILED` when the other mode is requested meanwhile.
 */
export async function waitForMaintenanceMode(
  gw: GatewayClient,
  service: MaintenanceService,
  maintenance: boolean,
  timeoutMs: number,
  options: { signal?: AbortSignal; onWait?: (last: string) => void } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const mode = maintenance ? 'maintenance' : 'normal';
  let last = 'no answer yet';
  for (;;) {
    let s: MaintenanceStatusResponse | undefined;
    try {
      s = await gw.getMaintenanceStatus(service, { signal: options.signal });
    } catch (err) {
      const remote = as(err, RemoteError);
      if ((remote && remote.status < 500) || options.signal?.aborted) {
        throw wrap(err, `waiting for ${service} to serve ${mode} mode`);
      }
      last = `last answer: ${errorLine(err)}`;
    }
    if (s) {
      if (s.current_status === maintenance) return;
      if (s.requested_status !== maintenance) {
        // asked for after this command's request: the other switch wins, this one cannot end
        throw newError(
          `${service}: ${maintenance ? 'normal' : 'maintenance'} mode was requested meanwhile (by another command?); not waiting for ${mode} mode`,
          { code: AgolaAppErrorCodes.CliFailed },
        );
      }
      last = `it still serves ${s.current_status ? 'maintenance' : 'normal'} mode, ${mode} mode requested`;
    }
    options.onWait?.(last);
    if (Date.now() >= deadline) {
      throw newError(
        `${service} did not switch to ${mode} mode within ${Math.round(timeoutMs / 1000)} s (${last}); see its /health and log, or wait longer with --timeout`,
        { code: AgolaAppErrorCodes.CliTimeout },
      );
    }
    await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
  }
}

function counter(p: Progress, verb: string): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      p.update(`${verb} ${formatBytes(n)}`);
      cb(null, chunk);
    },
  });
}

/** True for the answers a service gives while it is not (yet) in maintenance mode. */
function notSwitchedYet(err: unknown): boolean {
  const remote = as(err, RemoteError);
  if (!remote) return false;
  return remote.remoteCode === 'ERR_DATAMANAGER_NOT_IN_MAINTENANCE' || remote.status >= 500;
}

/** `agola export`, `agola import`, `agola maintenance` (admin; beyond Agola v0.7.1). */
export const maintenanceCommands: CommandModule = {
  register(program: Command) {
    program
      .command('export')
      .description("stream a service's data (Agola's export format) to a file or stdout (admin)")
      .argument('<service>', SERVICES.join(' or '), enumArg(SERVICES))
      .option('-o, --output <file>', 'write to this file instead of stdout')
      .action(
        cliAction(async (opts: { output?: string }, cmd) => {
          const service = cmd.processedArgs[0] as MaintenanceService;
          const p = progress();
          p.update(`exporting ${service}...`);
          const chunks = await clientFrom(cmd).exportData(service);
          const sink: Writable = opts.output
            ? createWriteStream(opts.output)
            : new Writable({
                write(chunk: Buffer, _enc, cb) {
                  process.stdout.write(chunk, (err) => cb(err ?? undefined));
                },
              });
          try {
            await pipeline(Readable.from(chunks), counter(p, `exporting ${service}:`), sink);
          } catch (err) {
            throw wrap(err, `exporting ${service}`, { code: AgolaAppErrorCodes.CliFailed });
          } finally {
            p.done();
          }
          if (opts.output) process.stderr.write(`${service} exported to ${opts.output}\n`);
        }),
      );

    program
      .command('import')
      .description(
        "replace a service's data with an export, from a file or stdin (admin; the service must be in maintenance mode)",
      )
      .argument('<service>', SERVICES.join(' or '), enumArg(SERVICES))
      .option('-f, --file <file>', 'the export file (- = stdin)', '-')
      .action(
        cliAction(async (opts: { file: string }, cmd) => {
          const service = cmd.processedArgs[0] as MaintenanceService;
          const gw = clientFrom(cmd);
          const p = progress();
          const deadline = Date.now() + SWITCH_WAIT_MS;
          try {
            for (;;) {
              const input = opts.file === '-' ? process.stdin : createReadStream(opts.file);
              const body = input.pipe(counter(p, `importing ${service}:`));
              input.on('error', (err: Error) => body.destroy(err));
              try {
                await gw.importData(
                  service,
                  Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>,
                );
                break;
              } catch (err) {
                // a file can be sent again while the service finishes its switch; stdin cannot
                if (opts.file === '-' || !notSwitchedYet(err) || Date.now() > deadline) {
                  throw wrap(err, `importing ${service}`);
                }
                p.update(`waiting for ${service} to be in maintenance mode...`);
                await new Promise((r) => setTimeout(r, 300));
              }
            }
          } finally {
            p.done();
          }
          printDone(cmd, `${service} imported`);
        }),
      );

    const m = program
      .command('maintenance')
      .description("switch a service's maintenance mode (admin)");
    for (const [name, enable] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      m.command(name)
        .description(
          enable
            ? 'enter maintenance mode: the service serves only maintenance, export and import'
            : 'leave maintenance mode',
        )
        .argument('<service>', SERVICES.join(' or '), enumArg(SERVICES))
        .option('--no-wait', 'return once the switch is asked for, before the service has switched')
        .option(
          '--timeout <seconds>',
          'how long to wait for the service to switch',
          positiveIntArg,
          DEFAULT_SWITCH_TIMEOUT_S,
        )
        .action(
          cliAction(async (opts: { wait: boolean; timeout: number }, cmd) => {
            const service = cmd.processedArgs[0] as MaintenanceService;
            const gw = clientFrom(cmd);
            await (enable ? gw.enableMaintenance(service) : gw.disableMaintenance(service));
            if (opts.wait) {
              const p = progress();
              try {
                await waitForMaintenanceMode(gw, service, enable, opts.timeout * 1000, {
                  onWait: (last) => p.update(`waiting for ${service} to switch (${last})...`),
                });
              } finally {
                p.done();
              }
            }
            printDone(
              cmd,
              `${service} maintenance mode ${enable ? 'enabled' : 'disabled'}${opts.wait ? '' : ' (switch requested; not waited for)'}`,
            );
          }),
        );
    }
  },
};
