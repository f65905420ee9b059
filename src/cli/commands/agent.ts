import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Agent } from '../../agent/index.js';
import { BulwarkError } from '../../core/errors.js';
import { createLogger, type LogFormat } from '../../core/logger.js';
import { NAME_PATTERN } from '../../core/names.js';
import { secretRegistry } from '../../core/secrets.js';
import { parseDuration } from '../../config/index.js';
import { EXIT } from '../exit-codes.js';

interface AgentCliOptions {
  join: string;
  token?: string;
  zone: string;
  name?: string;
  logLevel: string;
  logFormat?: LogFormat;
  drainTimeout: string;
  allowCommandChecks: boolean;
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('probe targets from this host (another zone or region) for a control plane, so a target is down only when a quorum of vantage points agree')
    .requiredOption('--join <url>', 'URL of the control plane (the API of `bulwark up`), e.g. http://10.0.0.5:8600')
    .option('--token <token>', 'API token (`bulwark token create`); prefer the BULWARK_AGENT_TOKEN environment variable, which `ps` does not show')
    .requiredOption('--zone <zone>', 'the zone this agent probes from')
    .option('--name <name>', 'this vantage point\'s name (default: <hostname>-<zone>)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, else json)')
    .option('--drain-timeout <duration>', 'on SIGTERM/SIGINT, how long to finish checks and deliver buffered results', '5s')
    .option('--allow-command-checks', 'run `command` checks (programs on this host) when the control plane assigns them', false)
    .addHelpText('after', `
Protocol: every 2 s the agent POSTs /api/v1/agents/heartbeat and gets its assignments (checks to run);
it runs them here and POSTs the results to /api/v1/agents/results every second, buffering while the control plane is away.

Exit: 0 after SIGTERM/SIGINT (results flushed); 1 when the control plane refuses the token or the agent.`)
    .action(async (options: AgentCliOptions) => {
      process.exitCode = await runAgent(options);
    });
}

async function runAgent(options: AgentCliOptions): Promise<number> {
  const settings = validate(options);
  // Never written anywhere, even if an error message were to quote it.
  secretRegistry.add(settings.token);
  const log = createLogger({ level: settings.level as 'info', format: settings.format });
  const agent = new Agent({ url: settings.url, token: settings.token, name: settings.name, zone: options.zone, log, allowCommandChecks: options.allowCommandChecks });
  await agent.start();
  const outcome = await new Promise<'signal' | 'failed'>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info({ signal, drainMs: settings.drainMs }, 'stopping');
      resolve('signal');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    void agent.failed.then(() => resolve('failed'));
  });
  // A second signal while draining exits at once.
  const now = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'second signal: exiting now');
    log.flush();
    process.exit(130);
  };
  process.on('SIGTERM', now);
  process.on('SIGINT', now);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('drain timeout')), settings.drainMs);
  try {
    await agent.stop(deadline.signal);
  } finally {
    clearTimeout(timer);
    process.off('SIGTERM', now);
    process.off('SIGINT', now);
  }
  log.info({ state: agent.state, ...agent.backlog }, 'agent stopped');
  log.flush();
  return outcome === 'failed' ? EXIT.findings : EXIT.ok;
}

function validate(options: AgentCliOptions): { url: URL; token: string; name: string; drainMs: number; level: string; format: LogFormat } {
  let url: URL;
  try {
    url = new URL(options.join);
  } catch {
    throw new BulwarkError('USAGE', `--join: "${options.join}" is not a URL`, { hint: 'give the control plane\'s API address, e.g. --join http://10.0.0.5:8600' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BulwarkError('USAGE', `--join: unsupported protocol "${url.protocol}"; use http: or https:`);
  }
  if (url.username || url.password) throw new BulwarkError('USAGE', '--join: do not put credentials in the URL; use --token or BULWARK_AGENT_TOKEN');
  const token = options.token ?? process.env.BULWARK_AGENT_TOKEN;
  if (!token) {
    throw new BulwarkError('USAGE', 'no API token: set BULWARK_AGENT_TOKEN (or pass --token)', { hint: 'create one on the control plane with: bulwark token create --name NAME' });
  }
  if (!NAME_PATTERN.test(options.zone)) throw new BulwarkError('USAGE', `--zone: "${options.zone}" must be letters, digits, "_", "." or "-" (at most 63)`);
  const name = options.name ?? `${hostname().split('.')[0] ?? 'agent'}-${options.zone}`.slice(0, 63);
  if (!NAME_PATTERN.test(name)) {
    throw new BulwarkError('USAGE', `--name: "${name}" must be letters, digits, "_", "." or "-" (at most 63)`, { hint: options.name ? undefined : 'the hostname does not make a valid name; pass --name' });
  }
  const drain = parseDuration(options.drainTimeout);
  if (!drain.ok) throw new BulwarkError('USAGE', `--drain-timeout: expected ${drain.expected}`);
  if (!LOG_LEVELS.has(options.logLevel)) throw new BulwarkError('USAGE', `--log-level: expected one of ${[...LOG_LEVELS].join(', ')}`);
  const format = options.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new BulwarkError('USAGE', `--log-format: expected json or pretty, got "${String(format)}"`);
  return { url, token, name, drainMs: drain.value, level: options.logLevel, format };
}
