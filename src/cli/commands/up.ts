import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger, type LogFormat } from '../../core/logger.js';
import { formatFinding, parseDuration, type Finding } from '../../config/index.js';
import { BulwarkError, isBulwarkError } from '../../core/errors.js';
import { Daemon } from '../../daemon/index.js';
import { addDataDirOption } from '../common.js';
import { version } from '../version.js';

interface UpOptions {
  config: string;
  dataDir: string;
  listen?: string;
  logLevel: string;
  logFormat?: LogFormat;
  drainTimeout: string;
  watch: boolean;
  node?: string;
}

export function registerUp(program: Command): void {
  addDataDirOption(program.command('up'))
    .description('run the daemon: API, metrics and every subsystem the configuration names')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--listen <host:port>', 'API listen address (overrides api.listen)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, else json)')
    .option('--drain-timeout <duration>', 'on SIGTERM/SIGINT, how long in-flight work may finish', '10s')
    .option('--no-watch', 'do not reload when the file changes (SIGHUP still reloads)')
    .option('--node <name>', "this host's name: its member name in a cluster (default: cluster.member, else the host name) and which PostgreSQL members it runs (by host or name; default: those on this machine's own addresses)")
    .addHelpText('after', `
Signals: SIGTERM/SIGINT stop accepting work, drain until --drain-timeout, exit 0
(a second signal exits at once with 130). SIGHUP reloads the configuration; a file
with errors is rejected, logged, and the running configuration stays in effect.`)
    .action(async (options: UpOptions) => {
      await runUp(options);
    });
}

async function runUp(options: UpOptions): Promise<void> {
  const drain = parseDuration(options.drainTimeout);
  if (!drain.ok) throw new BulwarkError('USAGE', `--drain-timeout: expected ${drain.expected}`);
  const format = options.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new BulwarkError('USAGE', `--log-format: expected json or pretty, got "${String(format)}"`);
  const log = createLogger({ level: options.logLevel as 'info', format });
  const daemon = new Daemon({
    configFile: resolve(options.config),
    dataDir: resolve(options.dataDir),
    log,
    version: version(),
    listen: options.listen,
    watch: options.watch,
    node: options.node,
  });
  try {
    await daemon.start();
  } catch (err) {
    // The error itself only counts the problems; say what they are, as a reload rejection does.
    const findings = isBulwarkError(err) ? ((err.context.findings as Finding[] | undefined) ?? []) : [];
    for (const finding of findings) {
      log[finding.severity === 'error' ? 'error' : 'warn']({ finding: formatFinding(finding) }, 'configuration finding');
    }
    log.flush();
    throw err;
  }
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal, drainMs: drain.value }, 'stopping');
      void daemon.stop(drain.value).then(done, (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stop failed');
        process.exitCode = 1;
        done();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => void daemon.reload('SIGHUP'));
  });
  log.info('stopped');
  log.flush();
}
