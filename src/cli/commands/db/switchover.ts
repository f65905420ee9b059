import type { Command } from 'commander';
import { BulwarkError } from '../../../core/errors.js';
import { requestFailover, requestSwitchover, waitForNewPrimary, type ControlContext, type NewPrimary } from '../../../postgres-ha/control.js';
import { REQUEST_TTL_SECONDS } from '../../../postgres-ha/keys.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes } from '../../progress.js';
import { addDbOptions, durationOption, openDb, requireMember, type DbOptions, type DbTarget } from './db-config.js';
import { describeHistory, seconds } from './render.js';

interface SwitchoverOptions extends DbOptions {
  to?: string;
  timeout: string;
}

interface FailoverOptions extends SwitchoverOptions {
  to: string;
  allowDataLoss?: boolean;
}

const EXIT_HELP = 'Exit codes: 0 the new primary accepts writes, 1 refused (see the message) or not done within --timeout, 2 bad input (unknown database or member, no coordination.etcd).';

export function registerSwitchover(db: Command): void {
  addDbOptions(db.command('switchover').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('planned handover: the primary stops writes, waits until the target has all of its WAL, and hands the leader key over')
    .option('--to <member>', 'the member to hand over to (default: the leader\'s manager picks the best replica)')
    .option('--timeout <duration>', 'how long to wait for the new primary to accept writes', '30s'))
    .addHelpText('after', `
Writes a switchover request to etcd (it expires by itself after ${REQUEST_TTL_SECONDS} s); the leader's
member manager acts on it. Before writing, checks that there is a leader, and that the
target is a configured member other than the leader, publishes a member record, is a
replica, is not fenced, and (synchronous mode) is in the synchronous set. Then waits
until the leader key names the new member and its PostgreSQL accepts writes, and prints
the time from the request to that moment. Needs coordination.etcd.

${EXIT_HELP}

Examples:
  bulwark db switchover main-db -c bulwark.yaml --to m2
  bulwark db switchover main-db -c bulwark.yaml --timeout 1m --json`)
    .action(async (name: string, options: SwitchoverOptions) => {
      const timeoutMs = durationOption('--timeout', options.timeout);
      const target = await openDb(options, name);
      try {
        if (options.to !== undefined) requireMember(target, options.to, '--to');
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
standard error. The request expires by itself after ${REQUEST_TTL_SECONDS} s. Needs coordination.etcd.

${EXIT_HELP}

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
    throw new BulwarkError('USAGE', `${what} needs coordination.etcd for now: the member managers act on requests written there`, {
      hint: 'add coordination.etcd (endpoints) to bulwark.yaml and run `bulwark up` on every member\'s host',
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
