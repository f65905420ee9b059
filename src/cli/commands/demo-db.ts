import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { createLogger, type Logger } from '../../core/logger.js';
import { BulwarkError } from '../../core/errors.js';
import { Daemon } from '../../daemon/index.js';
import { initDb } from '../../postgres-ha/index.js';
import { DEMO_DB_NAME, DemoDb, findEtcd, type DemoDbEvent, type DemoDbFacts } from '../../demo/index.js';
import { addDataDirOption } from '../common.js';
import { print, printError } from '../output.js';
import { version } from '../version.js';
import { localRuntime, openDb } from './db/db-config.js';

interface DemoDbOptions {
  dataDir: string;
  json?: boolean;
  verbose?: boolean;
}

/** `bulwark demo db`: PostgreSQL failover on this machine, shown live. */
export function registerDemoDb(demo: Command): void {
  addDataDirOption(demo.command('db'))
    .description('start etcd and three PostgreSQL members on this machine with a writer through the front door, and watch a failover live')
    .option('--json', 'print the facts (ports, PIDs, config, psql line) as one JSON line once ready, then one JSON line per event')
    .option('--verbose', 'daemon logs on stderr instead of DATA_DIR/demo-db/daemon.log')
    .addHelpText('after', `
Needs etcd (Debian and Ubuntu: apt-get install etcd-server) and the PostgreSQL server
(apt-get install postgresql). As root, PostgreSQL runs as the postgres user.

Everything listens on 127.0.0.1 and lives in DATA_DIR/demo-db/: etcd's data, the
members pg1..pg3, the generated bulwark.yaml and the daemon's log. The first run
initialises the cluster (as \`bulwark db init\` does); later runs reuse it.

Once ready it prints where everything is, a psql line for the front door (user
postgres, database demo) and how to break it: kill -9 the primary's postmaster, or
\`bulwark db switchover main -c DATA_DIR/demo-db/bulwark.yaml\`. Then one line per
event: who is primary, each failover or switchover with the write pause the writer
saw, the writes acknowledged and how many of them the new primary lacks (expected 0),
the old primary's rejoin. Ctrl-C (or SIGTERM) stops the writer, PostgreSQL and etcd
and exits 0.`)
    .action(async (options: DemoDbOptions) => {
      await runDemoDb(options);
    });
}

async function runDemoDb(options: DemoDbOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  await findEtcd(); // before the log file (or anything else) is made
  const logFile = options.verbose ? null : join(dataDir, 'demo-db', 'daemon.log');
  const log = demoLogger(logFile);
  let ready = false;
  const early: DemoDbEvent[] = [];
  const show = (event: DemoDbEvent): void => print(options.json ? JSON.stringify(event) : renderEvent(event));
  const demo = new DemoDb({
    dataDir, log, logFile, version: version(), initialise, createDaemon: (o) => new Daemon(o),
    onProgress: options.json ? undefined : (text) => print(text),
    onEvent: (event) => (ready ? show(event) : early.push(event)),
  });
  const signals = stopSignals();
  try {
    const facts = await Promise.race([demo.start(), signals.requested.then(() => undefined)]);
    if (facts) {
      print(options.json ? JSON.stringify(facts) : renderFacts(facts));
      ready = true;
      early.splice(0).forEach(show);
      await signals.requested;
    }
    await demo.stop();
    log.flush();
    if (!options.json) printError('demo stopped: the writer, the daemon (and with it PostgreSQL) and etcd are gone.');
  } catch (err) {
    await demo.stop();
    throw err;
  } finally {
    signals.dispose();
  }
}

/** `bulwark db init main -c CONFIG`, in this process: the same steps, the same refusals. */
async function initialise(configFile: string, step: (text: string) => void): Promise<void> {
  const target = await openDb({ config: configFile }, DEMO_DB_NAME);
  try {
    const password = target.pg.superuser_password;
    if (!password) throw new BulwarkError('INTERNAL', `${configFile}: the demo's superuser_password is not set`);
    await initDb(target, { runtime: await localRuntime(target), password, adopt: false, onStep: step });
  } finally {
    await target.close();
  }
}

function demoLogger(logFile: string | null): Logger {
  if (logFile === null) return createLogger({ format: process.stderr.isTTY ? 'pretty' : 'json' });
  return createLogger({ format: 'json', destination: pino.destination({ dest: logFile, sync: true, mkdir: true }) });
}

/** The first SIGINT/SIGTERM resolves `requested` (start-up too is stopped cleanly); a second exits at once with 130. */
function stopSignals(): { requested: Promise<void>; dispose: () => void } {
  let resolveRequested: () => void = () => undefined;
  const requested = new Promise<void>((done) => {
    resolveRequested = done;
  });
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    resolveRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel || '.';
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, word: string): string => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

function renderFacts(f: DemoDbFacts): string {
  const rows = [['MEMBER', 'ROLE', 'ADDRESS', 'POSTMASTER PID', 'DATA DIR'], ...f.members.map((m) => [
    m.name, m.role, `${m.host}:${m.port}`, String(m.pid ?? '-'), shown(m.dataDir),
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const table = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}`);
  return [
    '',
    `Bulwark PostgreSQL demo is up (ready in ${seconds(f.readyMs)}${f.firstRun ? ', cluster initialised' : ', existing cluster'}). Everything listens on 127.0.0.1; Ctrl-C stops it all.`,
    '',
    `  etcd        ${f.etcd.url}   pid ${f.etcd.pid}   data ${shown(f.etcd.dataDir)}   (one member: a real deployment runs three, see the README)`,
    ...table,
    `  front door  ${f.frontDoor.host}:${f.frontDoor.port}   always leads to the primary; user ${f.frontDoor.user}, database ${f.frontDoor.database}, password in ${shown(f.frontDoor.passfile)} (a libpq password file)`,
    `  config      ${shown(f.config)}   logs ${f.log === null ? 'stderr' : shown(f.log)}`,
    '',
    `A writer inserts a row into ${f.table} through the front door every few ms and remembers each acknowledged one.`,
    'Look for yourself, through the front door:',
    `  ${f.psql} -c 'SELECT count(*), max(at) FROM ${f.table}'`,
    '',
    'Break it, from another terminal:',
    `  # crash the primary ${f.primary}: a replica takes over, ${f.primary} comes back as its replica through pg_rewind`,
    `  ${f.kill}`,
    '  # a planned switchover to the best replica (add --to pg2 to choose)',
    `  ${f.switchover}`,
    '  # what each member and etcd say',
    `  ${f.status}`,
    '',
    'Live, one line per event: who is primary, each failover or switchover with the write pause and the',
    'acknowledged writes the new primary lacks (expected 0), rejoins, the standbys, and the writes so far.',
  ].join('\n');
}

function renderEvent(e: DemoDbEvent): string {
  const t = e.at.slice(11, 23);
  switch (e.event) {
    case 'primary':
      return `${t}  ${e.member} is the primary${e.pid ? ` (postmaster pid ${e.pid}: kill -9 ${e.pid} to crash it)` : ''}`;
    case 'fenced':
      return `${t}  ${e.member} fenced: ${e.reason}`;
    case 'failover': {
      const kind = e.kind === 'manual-failover' ? 'MANUAL FAILOVER' : e.kind.toUpperCase();
      const gap = e.writeGapMs === null ? 'the writer saw no write on it within a minute' : `writes paused ${seconds(e.writeGapMs)} as the writer saw it`;
      const lost = e.missing === null ? `missing writes not counted (${e.error ?? 'no answer'})`
        : `${count(e.missing)} of them missing on ${e.to} (expected 0)${e.missing > 0 ? `: LOST, e.g. seq ${e.missingSample.join(', ')}` : ''}`;
      const cut = e.unanswered > 0 ? `; ${plural(e.unanswered, 'write')} got no answer so far (cut off by a failover or switchover: they may or may not have committed)` : '';
      return `${t}  ${kind} ${e.from ?? '?'} → ${e.to}: ${gap} (${e.to} measured ${seconds(e.measuredMs)}); ${count(e.acknowledged)} writes acknowledged, ${lost}${cut}`;
    }
    case 'rejoined':
      return e.method === 'start'
        ? `${t}  ${e.member} started read-only (${e.detail})`
        : `${t}  ${e.member} rejoined as a replica of ${e.leader ?? 'the primary'} through ${e.method} in ${seconds(e.durationMs)} (${e.detail})`;
    case 'standbys': {
      const waits = e.synchronousStandbyNames === ''
        ? 'commits are acknowledged by it alone'
        : `commits wait for ${e.synchronousStandbyNames}`;
      return e.standbys.length === 0
        ? `${t}  ${e.primary} has no standby streaming; ${waits}`
        : `${t}  ${e.primary} streams to ${e.standbys.map((s) => `${s.name} (${s.state}, ${s.sync})`).join(', ')}; ${waits}`;
    }
    case 'writes':
      return `${t}  ${plural(e.acknowledged, 'write')} acknowledged (${count(e.perSecond)}/s)${e.primary ? ` by ${e.primary}` : ''}${e.unanswered > 0 ? `, ${count(e.unanswered)} without an answer` : ''}`;
  }
}
