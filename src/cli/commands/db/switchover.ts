import type { Command } from 'commander';
import { BulwarkError } from '../../../core/errors.js';
import {
  requestFailover, requestSwitchover, REQUEST_TTL_SECONDS, switchoverLocally, waitForNewPrimary,
  type ControlContext, type LocalSwitchoverResult, type NewPrimary,
} from '../../../postgres-ha/index.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes } from '../../progress.js';
import { addDbOptions, durationOption, localRuntime, openDb, requireMember, type DbOptions, type DbTarget } from './db-config.js';
import { describeHistory, seconds } from './render.js';
import { NO_ETCD_NOTE } from './status.js';

interface SwitchoverOptions extends DbOptions {
  to?: string;
  timeout: string;
}

interface FailoverOptions extends SwitchoverOptions {
  to: string;
  allowDataLoss?: boolean;
}

const FAILOVER_EXIT_HELP = 'Exit codes: 0 the new primary accepts writes, 1 refused (see the message) or not done within --timeout, 2 bad input (unknown database or member, no coordination.etcd).';
const SWITCHOVER_EXIT_HELP = `Exit codes: 0 the new primary accepts writes (without etcd: and the old primary streams
from it), 1 refused (see the message), aborted, or not done within --timeout, 2 bad input
(unknown database or member; without etcd: root without run_as, no PostgreSQL binaries).`;

export function registerSwitchover(db: Command): void {
  addDbOptions(db.command('switchover').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('planned handover: the primary stops writes, the target receives all of its WAL and is promoted, the old primary follows it')
    .option('--to <member>', 'the member to hand over to (default: the best streaming standby)')
    .option('--timeout <duration>', 'how long to wait for the new primary to accept writes (without etcd: for the standbys to stream from it)', '30s'))
    .addHelpText('after', `
With coordination.etcd: writes a switchover request to etcd (it expires by itself after
${REQUEST_TTL_SECONDS} s); the leader's member manager acts on it. Before writing, checks that there
is a leader, and that the target is a configured member other than the leader, publishes
a member record, is a replica, is not fenced, and (synchronous mode) is in the synchronous
set. Then waits until the leader key names the new member and its PostgreSQL accepts
writes, and prints the time from the request to that moment.

Without coordination.etcd (automatic failover is off; this is the only way the primary
changes): bulwark does it itself, for a primary on this host (data_dir) started with
pg_ctl. Exactly one member must accept writes and the target must stream from it. The
primary is stopped (pg_ctl stop -m fast); once the target has received its shutdown
checkpoint (10 s at most, else the old primary starts again as primary: nothing lost,
nothing changed) the target is promoted, other replicas are re-pointed, and the old
primary starts with pg_ctl as its standby (server log: DATA_DIR.log beside the data
directory). Prints the write pause (stop → new primary writable) and the total time.

${SWITCHOVER_EXIT_HELP}

Examples:
  bulwark db switchover main-db -c bulwark.yaml --to m2
  bulwark db switchover main-db -c bulwark.yaml --timeout 1m --json`)
    .action(async (name: string, options: SwitchoverOptions) => {
      const timeoutMs = durationOption('--timeout', options.timeout);
      const target = await openDb(options, name);
      try {
        if (options.to !== undefined) requireMember(target, options.to, '--to');
        if (!target.etcd) {
          await switchoverWithoutEtcd(target, options, timeoutMs);
          return;
        }
        const ctx = controlContext(target, 'switchover');
        const written = await requestSwitchover(ctx, options.to);
        if (!options.json) print(`switchover of ${name} requested: ${written.from} → ${written.to ?? `the best of ${written.candidates.join(', ')}`}; waiting up to ${seconds(timeoutMs)}`);
        const result = await waitForNewPrimary(ctx, {
          kind: 'switchover', from: written.from, to: written.to, requestKey: ctx.keys.switchover,
          requestedAt: written.request.requestedAt, writtenAt: written.writtenAt, timeoutMs,
        });
        report(options, { database: name, kind: 'switchover', from: written.from, requested: written.request }, result);
      } finally {
        await target.close();
      }
    });
}

/** No etcd, so no member managers: the switchover is carried out here (src/postgres-ha/local-switchover.ts). */
async function switchoverWithoutEtcd(target: DbTarget, options: SwitchoverOptions, timeoutMs: number): Promise<void> {
  if (!options.json) print(`note: ${NO_ETCD_NOTE}: bulwark carries it out itself`);
  const password = target.pg.superuser_password;
  if (!password) {
    throw new BulwarkError('USAGE', `databases.${target.name}.postgres.superuser_password is not set`, {
      hint: 'bulwark connects to every member as superuser to find the primary and promote the target',
    });
  }
  const runtime = await localRuntime(target);
  const requestedAt = new Date().toISOString();
  // Stopping half way could leave no primary: the switchover finishes (or puts the old primary back) first.
  const hold = (signal: NodeJS.Signals): void => printError(`${signal}: a switchover is in progress; bulwark exits once it is done or undone (seconds)`);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, hold);
  let r: LocalSwitchoverResult;
  try {
    r = await switchoverLocally(target, {
      runtime, password, to: options.to,
      followTimeoutMs: timeoutMs, onStep: options.json ? undefined : (line) => print(`  ${line}`),
    });
  } finally {
    for (const s of signals) process.off(s, hold);
  }
  if (options.json) {
    printJSON({
      database: r.database, kind: 'switchover', coordination: 'none', from: r.from, requested: { from: r.from, to: r.to, requestedAt },
      leader: r.to, elapsedMs: Math.round(r.totalMs), writePauseMs: Math.round(r.writePauseMs), history: null,
      checkpoint: r.checkpoint, timeline: r.timeline, logFile: r.logFile, oldPrimaryStreaming: r.oldPrimaryStreaming, repointed: r.repointed,
      streaming: r.streaming, synchronousStandbyNames: r.synchronousStandbyNames, warnings: r.warnings, notes: [NO_ETCD_NOTE], steps: r.steps,
    });
  } else {
    for (const w of r.warnings) printError(`warning: ${w}`);
    print(`new primary: ${r.to}, accepting writes; writes paused ${seconds(r.writePauseMs)} (${r.from} stopped → ${r.to} writable), ${seconds(r.totalMs)} in all`);
    print(r.oldPrimaryStreaming ? `${r.from} is ${r.to}'s standby (server log ${r.logFile})` : `${r.from} is not streaming from ${r.to}: see ${r.logFile}`);
  }
  if (!r.oldPrimaryStreaming) process.exitCode = EXIT.findings;
}

export function registerFailover(db: Command): void {
  addDbOptions(db.command('failover').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('manual failover when there is no primary: the named replica takes the free leader key and promotes')
    .requiredOption('--to <member>', 'the replica to promote')
    .option('--allow-data-loss', 'go ahead even when the normal rules would refuse the target (it may lack acknowledged commits)')
    .option('--timeout <duration>', 'how long to wait for the new primary to accept writes', '30s'))
    .addHelpText('after', `
Only when nobody holds the leader key (otherwise use \`bulwark db switchover\`). The
target must be a running replica whose manager publishes its record, not fenced. When
the automatic rules would refuse it (synchronous mode: not in the recorded synchronous
set, or members of that set not visible; asynchronous mode: lag behind the last
published primary position above maximum_lag_on_failover; or another visible member
further ahead), --allow-data-loss is required, and what may be lost is printed on
standard error. The request expires by itself after ${REQUEST_TTL_SECONDS} s. Needs coordination.etcd:
without it automatic failover is off and only manual switchover is available.

${FAILOVER_EXIT_HELP}

Examples:
  bulwark db failover main-db -c bulwark.yaml --to m2
  bulwark db failover main-db -c bulwark.yaml --to m3 --allow-data-loss --json`)
    .action(async (name: string, options: FailoverOptions) => {
      const timeoutMs = durationOption('--timeout', options.timeout);
      const target = await openDb(options, name);
      try {
        requireMember(target, options.to, '--to');
        const ctx = controlContext(target, 'failover');
        const written = await requestFailover(ctx, options.to, options.allowDataLoss === true);
        for (const risk of written.risks) printError(`warning: --allow-data-loss: ${risk}`);
        if (written.behindOptimeBytes !== undefined && written.behindOptimeBytes > 0n && written.risks.length > 0) {
          printError(`warning: up to ${formatBytes(Number(written.behindOptimeBytes))} of WAL after ${options.to}'s position may be lost`);
        }
        if (!options.json) print(`failover of ${name} to ${options.to} requested; waiting up to ${seconds(timeoutMs)}`);
        const result = await waitForNewPrimary(ctx, {
          kind: 'failover', to: options.to, requestKey: ctx.keys.failover,
          requestedAt: written.request.requestedAt, writtenAt: written.writtenAt, timeoutMs,
        });
        report(options, { database: name, kind: 'failover', from: undefined, requested: written.request, risks: written.risks }, result);
      } finally {
        await target.close();
      }
    });
}

function controlContext(target: DbTarget, what: string): ControlContext {
  if (!target.etcd) {
    throw new BulwarkError('USAGE', `${what} needs coordination.etcd: ${NO_ETCD_NOTE}`, {
      hint: `with a primary running: \`bulwark db switchover ${target.name} --to MEMBER\`; for automatic and manual failover, add coordination.etcd (endpoints) to bulwark.yaml and run \`bulwark up\` on every member's host`,
    });
  }
  return { etcd: target.etcd.client, keys: target.etcd.keys, topology: target.topology };
}

function report(options: DbOptions, what: { database: string; kind: string; from: string | undefined; requested: object; risks?: string[] }, result: NewPrimary): void {
  if (options.json) {
    printJSON({ ...what, leader: result.leader, elapsedMs: Math.round(result.elapsedMs), history: result.history ?? null });
    return;
  }
  print(`new primary: ${result.leader}, accepting writes ${seconds(result.elapsedMs)} after the request`);
  if (result.history) print(`the new leader recorded the ${describeHistory(result.history)}`);
}
