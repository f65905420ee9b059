import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { generateToken } from '../../auth/index.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { BulwarkError } from '../../core/errors.js';
import { Daemon } from '../../daemon/index.js';
import { loadValidConfig } from '../../config/index.js';
import { DrillRunner, reportJson, reportMarkdown } from '../../drills/index.js';
import { DEMO_SERVICE, DEMO_ZONE_DRILL, DemoServers, demoConfigYaml, isPortFree, preferPort, type RunningDemoServer } from '../../demo/index.js';
import { openStore } from '../../store/index.js';
import { addDataDirOption } from '../common.js';
import { print, printError } from '../output.js';
import { version } from '../version.js';
import { registerDemoDb } from './demo-db.js';

interface DemoOptions {
  dataDir: string;
  port?: string;
  json?: boolean;
  verbose?: boolean;
  zoneDrill?: boolean;
}

/** What `bulwark demo` prints once everything is up; `--json` prints exactly this. */
export interface DemoFacts {
  gateway: string;
  api: string;
  statusPage: string;
  token: string;
  service: string;
  config: string;
  log: string | null;
  dataDir: string;
  servers: Array<Pick<RunningDemoServer, 'name' | 'zone' | 'region' | 'backup' | 'pid' | 'url'>>;
}

const PREFERRED_GATEWAY_PORT = 8080;
const PREFERRED_API_PORT = 9180;
const PREFERRED_STATUS_PORT = 9181;
const DRAIN_MS = 2_000;
const READY_TIMEOUT_MS = 15_000;

export function registerDemo(program: Command): void {
  const demo = addDataDirOption(program.command('demo'))
    .description('start a small topology on this machine (three zones, a backup region, the gateway and the daemon) and break it')
    .option('--port <port>', `gateway port on 127.0.0.1 (default ${PREFERRED_GATEWAY_PORT}, or a free port when it is taken)`)
    .option('--json', 'print the endpoints, PIDs and token as one JSON line, for scripts')
    .option('--verbose', 'daemon logs on stderr instead of DATA_DIR/demo/daemon.log')
    .option('--zone-drill', 'once it is up, run the zone-failure drill (the first zone SIGSTOPped for 5 s under traffic), print its report, stop everything; exit 0 passed, 1 failed, 3 aborted')
    .addHelpText('after', `
Everything listens on 127.0.0.1 only. The configuration is written to
DATA_DIR/demo/bulwark.yaml and the demo's store lives beside it. Each demo server
is its own process: kill one with kill -9 PID, or make it answer 500 or slowly with
  curl -X POST http://127.0.0.1:PORT/chaos -d '{"mode":"fail"}'   ("slow", "ok").
Ctrl-C (or SIGTERM) stops the daemon and every demo server, then exits 0.`)
    .action(async (options: DemoOptions) => {
      await runDemo(options);
    });
  // `demo db --data-dir X --json`: options after `db` are its own, not `demo`'s. Commander hands a
  // subcommand only what its parent did not parse, so the program must stop at `demo` too.
  program.enablePositionalOptions();
  registerDemoDb(demo.enablePositionalOptions());
}

async function runDemo(options: DemoOptions): Promise<void> {
  const requestedPort = parsePort(options.port);
  const dataDir = resolve(options.dataDir);
  const demoDir = join(dataDir, 'demo');
  await mkdir(demoDir, { recursive: true });

  let running = true;
  const servers = new DemoServers((server, signal, code) => {
    if (running && !options.json) {
      printError(`demo server ${server.name} (${server.zone}, pid ${server.pid}) exited (${signal ?? `code ${String(code)}`}): the gateway routes around it.`);
    }
  });
  // No orphans, whatever way this process ends.
  const killAll = () => servers.killAll();
  process.once('exit', killAll);

  let daemon: Daemon | undefined;
  try {
    if (requestedPort !== undefined && !(await isPortFree(requestedPort))) {
      throw new BulwarkError('USAGE', `--port ${requestedPort}: the port is in use on 127.0.0.1`, { hint: 'choose another port, or leave --port out to take 8080 or a free one' });
    }
    const started = await servers.startAll();
    const gatewayPort = requestedPort ?? await preferPort(PREFERRED_GATEWAY_PORT);
    let apiPort = await preferPort(PREFERRED_API_PORT);
    if (apiPort === gatewayPort) apiPort = await preferPort(0);
    let statusPort = await preferPort(PREFERRED_STATUS_PORT);
    while (statusPort === gatewayPort || statusPort === apiPort) statusPort = await preferPort(0);

    const configFile = join(demoDir, 'bulwark.yaml');
    await writeFile(configFile, demoConfigYaml({ gatewayPort, apiPort, statusPort, servers: started }));
    const token = await createDemoToken(demoDir);
    const logFile = options.verbose ? null : join(demoDir, 'daemon.log');
    const log = demoLogger(logFile);

    daemon = new Daemon({ configFile, dataDir: demoDir, log, version: version(), listen: `127.0.0.1:${apiPort}` });
    await daemon.start();
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    await waitForGateway(gateway);

    const facts: DemoFacts = {
      gateway, api: `http://127.0.0.1:${apiPort}`, statusPage: `http://127.0.0.1:${statusPort}/`, token, service: DEMO_SERVICE, config: configFile, log: logFile, dataDir: demoDir,
      servers: started.map(({ name, zone, region, backup, pid, url }) => ({ name, zone, region, backup, pid, url })),
    };
    if (options.zoneDrill) {
      running = false;
      process.exitCode = await runDemoZoneDrill(configFile, demoDir, options.json === true);
      await daemon.stop(DRAIN_MS);
      await servers.stopAll();
      return;
    }
    print(options.json ? JSON.stringify(facts) : renderDemo(facts));

    await untilSignal(async () => {
      running = false;
      await daemon?.stop(DRAIN_MS);
      await servers.stopAll();
      log.flush();
    });
    if (!options.json) printError('demo stopped: the daemon and every demo server are gone.');
  } catch (err) {
    running = false;
    await daemon?.stop(DRAIN_MS).catch(() => undefined);
    await servers.stopAll();
    throw err;
  } finally {
    process.removeListener('exit', killAll);
  }
}

/** The demo topology's zone drill, beside the running daemon, as `bulwark drill run` would; its exit code. */
async function runDemoZoneDrill(configFile: string, demoDir: string, json: boolean): Promise<number> {
  const { config } = await loadValidConfig(configFile);
  const store = await openStore({ dataDir: demoDir });
  try {
    const runner = new DrillRunner({ config, dataDir: demoDir, store, onStep: json ? undefined : (s) => printError(`${s.step} ${s.subject ?? ''}: ${s.ok ? 'ok' : 'FAILED'} (${s.durationMs} ms)`) });
    const report = await runner.run(DEMO_ZONE_DRILL);
    print(json ? reportJson(report) : reportMarkdown(report));
    return report.outcome === 'passed' ? 0 : report.outcome === 'failed' ? 1 : 3;
  } finally {
    await store.close();
  }
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new BulwarkError('USAGE', `--port: expected a port number 1-65535, got "${value}"`);
  return port;
}

/** A fresh admin token in the demo's own store; only its hash is kept. */
async function createDemoToken(demoDir: string): Promise<string> {
  const generated = generateToken();
  const store = await openStore({ dataDir: demoDir });
  try {
    await store.migrate();
    await store.createToken({ name: `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`, hash: generated.hash, prefix: generated.prefix });
  } finally {
    await store.close();
  }
  return generated.token;
}

function demoLogger(logFile: string | null): Logger {
  if (logFile === null) return createLogger({ format: process.stderr.isTTY ? 'pretty' : 'json' });
  return createLogger({ format: 'json', destination: pino.destination({ dest: logFile, sync: true, mkdir: true }) });
}

/** "Everything is up" means a request through the gateway is answered. */
async function waitForGateway(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String((err as Error).cause ?? err);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new BulwarkError('INTERNAL', `the demo gateway at ${url} did not answer within ${READY_TIMEOUT_MS / 1000} s (${last})`);
}

/** Resolves after `stop` ran on the first SIGINT/SIGTERM; a second signal exits at once with 130. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((done, fail) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(130);
      stopping = true;
      stop().then(done, fail).finally(() => {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function renderDemo(f: DemoFacts): string {
  const shown = (path: string) => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.');
  const rows = [['SERVER', 'ZONE', 'REGION', 'PID', 'URL', ''], ...f.servers.map((s) => [
    s.name, s.zone, s.region, String(s.pid), s.url, s.backup ? 'backup: serves only when no other server is healthy' : '',
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const table = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}`);
  const [first, second] = f.servers;
  const status = `BULWARK_TOKEN=${f.token} npx bulwark status --url ${f.api}`;
  return [
    'Bulwark demo is up. Everything listens on 127.0.0.1; Ctrl-C stops it all.',
    '',
    `  gateway  ${f.gateway}   (service "${f.service}": health checks every 1 s, retries, outlier detection)`,
    `  API      ${f.api}`,
    `  UI       ${f.api}/ui   (the operator dashboard: sign in with the API token below)`,
    `  status   ${f.statusPage}   (the public status page)`,
    `  config   ${shown(f.config)}   (edit it: the daemon reloads it)`,
    `  logs     ${f.log === null ? 'stderr' : shown(f.log)}`,
    '',
    ...table,
    '',
    'API token (shown only once):',
    `  export BULWARK_TOKEN=${f.token}`,
    '',
    'Try it (comments say what to watch for):',
    '  # answers rotate across the three zones of us-east-1',
    `  curl ${f.gateway}/`,
    `  # crash ${first?.name ?? 'a server'}: requests keep succeeding, the gateway drops it within about 2 s`,
    `  kill -9 ${first?.pid ?? 'PID'}`,
    '  # watch the failover: which endpoints are down, and why',
    `  ${status}`,
    `  # make ${second?.name ?? 'a server'} answer 500 ("slow" answers after 2 s, "ok" heals it)`,
    `  curl -X POST ${second?.url ?? 'http://127.0.0.1:PORT'}/chaos -d '{"mode":"fail"}'`,
    '  # lose the whole primary region: the backup in another region serves',
    `  kill -9 ${f.servers.filter((s) => !s.backup).map((s) => s.pid).join(' ')}`,
    '',
    'Ctrl-C stops the daemon and every demo server.',
  ].join('\n');
}
