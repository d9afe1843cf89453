import type { Command } from 'commander';
import type { CommandModule } from '../cli/program.js';
import type { Serve } from '../serve.js';

async function fail(err: unknown): Promise<never> {
  // loaded only here and in the action: the other commands start without the services' code
  const { serveFailureText } = await import('../serve.js');
  process.stderr.write(serveFailureText(err));
  process.exit(1);
}

/** `agola serve`: the chosen components in one process (see src/serve.ts). */
export const serveCommands: CommandModule = {
  register(program: Command) {
    program
      .command('serve')
      .description('run the chosen Agola-TS components in one process')
      .requiredOption('--config <file>', "Agola's config file (YAML)")
      .requiredOption(
        '--components <list>',
        'comma-separated: all-base, configstore, runservice, executor, scheduler, notification, gateway, gitserver',
      )
      .option('--embedded-etcd-data-dir <dir>', 'data dir of the embedded etcd')
      .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
      .action(
        async (opts: {
          config: string;
          components: string;
          embeddedEtcdDataDir?: string;
          logLevel: string;
        }) => {
          const [{ pino }, { parseComponents, startServe }] = await Promise.all([
            import('pino'),
            import('../serve.js'),
          ]);
          // the root logger: services log through children of it (JSON lines on stdout)
          const logger = pino({ level: opts.logLevel, base: { pid: process.pid } });
          let serve: Serve | undefined;
          let stopping = false;
          const stopAndExit = (running: Serve) => {
            void running.stop().then(
              () => {
                logger.info('stopped');
                process.exit(0);
              },
              (err: unknown) => {
                logger.error({ err }, 'stop failed');
                process.exit(1);
              },
            );
          };
          const shutdown = (signal: NodeJS.Signals) => {
            if (stopping) return;
            stopping = true;
            logger.info({ signal }, 'stopping');
            // during the start, the start path stops what it started (no orphan etcd)
            if (serve) stopAndExit(serve);
          };
          // handled before the start, so a signal during the start still stops what started
          process.on('SIGINT', shutdown);
          process.on('SIGTERM', shutdown);
          try {
            const components = parseComponents(opts.components);
            serve = await startServe({
              configPath: opts.config,
              components,
              ...(opts.embeddedEtcdDataDir
                ? { embeddedEtcdDataDir: opts.embeddedEtcdDataDir }
                : {}),
              logger,
            });
            logger.info(
              { components: serve.started, etcd: serve.etcdEndpoint },
              'agola serve ready',
            );
            if (stopping) stopAndExit(serve);
          } catch (err) {
            await fail(err);
          }
        },
      );
  },
};
