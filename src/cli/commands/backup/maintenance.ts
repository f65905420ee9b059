import type { Command } from 'commander';
import { checkRepository, checkSelection, findPolicy, type ForgetGroup, forgetSnapshots, type GroupSelection, pruneRepository, retentionFor, type RetentionPolicy } from '../../../backup/index.js';
import { resolve } from 'node:path';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes, ProgressLine } from '../../progress.js';
import { collect } from './run.js';
import { addCommonOptions, addRepoOptions, durationOption, openRepo, waitLockMs, type RepoOptions } from './repo-options.js';

interface ForgetOptions extends RepoOptions {
  keepLast?: string; keepHourly?: string; keepDaily?: string; keepWeekly?: string; keepMonthly?: string; keepYearly?: string; keepWithin?: string;
  dryRun?: boolean; prune?: boolean; policy?: string; host?: string; path: string[]; allGroups?: boolean;
}

export function registerMaintenance(backup: Command): void {
  addCommonOptions(addRepoOptions(backup.command('forget').description('remove snapshots that a retention policy does not keep, group by group (see docs/backup-retention.md); data goes with `prune`')))
    .option('--policy <name>', 'the snapshots made by this backup policy; with -c and no --keep-* flag, the retention bulwark.yaml gives this repository')
    .option('--host <host>', 'ad-hoc snapshots of this host')
    .option('--path <path>', 'ad-hoc snapshots of exactly these paths; repeatable', collect, [])
    .option('--all-groups', 'every group, each judged on its own by the same rules')
    .option('--keep-last <n>', 'keep the n newest snapshots')
    .option('--keep-hourly <n>', 'keep the newest snapshot of each of the last n hours that have one')
    .option('--keep-daily <n>', 'the same per day')
    .option('--keep-weekly <n>', 'the same per ISO week')
    .option('--keep-monthly <n>', 'the same per month')
    .option('--keep-yearly <n>', 'the same per year')
    .option('--keep-within <duration>', 'keep every snapshot younger than this, counted back from the newest snapshot, e.g. 7d')
    .option('--dry-run', 'show, per group, what would be kept (and by which rule) and removed; remove nothing')
    .option('--prune', 'prune unreferenced data afterwards')
    .addHelpText('after', [
      '',
      'A group is the snapshots of one backup policy, or the ad-hoc snapshots of one host and set of paths.',
      'Rules never reach across groups, and forget refuses to run without a group selection.',
      '',
      'Examples:',
      '  bulwark backup forget -c bulwark.yaml --repository offsite --policy main-db --dry-run',
      '  bulwark backup forget -r /var/backups/bulwark --host web1 --path /etc --keep-daily 7',
      '  bulwark backup forget -r /var/backups/bulwark --all-groups --keep-last 3 --dry-run',
    ].join('\n'))
    .action(async (options: ForgetOptions) => {
      const select = selectionFrom(options);
      const policy = Object.keys(retentionFrom(options)).length > 0 ? retentionFrom(options) : await configuredRetention(options);
      const repo = await openRepo(options);
      const groups = await forgetSnapshots(repo, policy, { select, dryRun: options.dryRun, lockWaitMs: waitLockMs(options) });
      if (options.json) printJSON(groups);
      else if (!options.quiet || options.dryRun) printGroups(groups, options); // a dry run exists to be read
      if (options.prune && !options.dryRun) printPrune(await pruneRepository(repo, { lockWaitMs: waitLockMs(options) || 60_000 }), options);
    });

  addCommonOptions(addRepoOptions(backup.command('prune').description('delete data no snapshot needs; runs beside backups (only its short final phase needs the repository to itself)')))
    .option('--dry-run', 'report what would be freed')
    .option('--repack-threshold <percent>', 'repack packs with more than this share unused', '30%')
    .action(async (options: RepoOptions & { dryRun?: boolean; repackThreshold: string }) => {
      const repo = await openRepo(options);
      const threshold = Number(options.repackThreshold.replace('%', '')) / 100;
      if (!(threshold > 0 && threshold <= 1)) throw new BulwarkError('USAGE', `--repack-threshold "${options.repackThreshold}" is not a percentage`, { hint: 'e.g. --repack-threshold 30%' });
      const progress = new ProgressLine('prune', options);
      const report = await pruneRepository(repo, { dryRun: options.dryRun, repackThreshold: threshold, lockWaitMs: waitLockMs(options) || 60_000, onProgress: (p) => progress.update(p.done, p.total, p.phase) });
      progress.done();
      printPrune(report, options);
    });

  addCommonOptions(addRepoOptions(backup.command('check').description('check the repository structure; with --read-data, read and authenticate every byte')))
    .option('--read-data', 'read every pack and verify every blob')
    .option('--read-data-subset <n/m|p%>', 'read only part of the packs, e.g. 1/5 or 10%')
    .addHelpText('after', '\nExit codes: 0 no errors, 1 errors found (damaged snapshots and files are named), 2 bad input.')
    .action(async (options: RepoOptions & { readData?: boolean; readDataSubset?: string }) => {
      const repo = await openRepo(options);
      const progress = new ProgressLine('check', options);
      const report = await checkRepository(repo, { readData: options.readData, readDataSubset: options.readDataSubset, onProgress: (p) => progress.update(p.packs, p.totalPacks, `${formatBytes(p.bytes)} read`) });
      progress.done();
      if (options.json) printJSON(report);
      else {
        if (!options.quiet) print(`${report.snapshots} snapshots, ${report.packs} packs, ${report.blobs} blobs; read ${report.packsRead} packs (${formatBytes(report.bytesRead)}) in ${(report.durationMs / 1000).toFixed(1)}s`);
        if (report.unreferencedPacks.length && !options.quiet) print(`${report.unreferencedPacks.length} pack(s) not in any index (left by an interrupted run; \`bulwark backup prune\` removes them)`);
        for (const e of report.errors) printError(`error: ${e}`);
        for (const a of report.affected) printError(`damaged: snapshot ${a.snapshot.slice(0, 8)} (${a.time}): ${a.paths.join(', ')}`);
        if (!report.ok) printError(`${report.errors.length} error(s) found`);
        else if (!options.quiet) print('no errors found');
      }
      process.exitCode = report.ok ? EXIT.ok : EXIT.findings;
    });
}

function selectionFrom(options: ForgetOptions): GroupSelection {
  const chosen = [options.policy !== undefined, options.host !== undefined || options.path.length > 0, options.allGroups === true].filter(Boolean).length;
  if (chosen > 1) throw new BulwarkError('USAGE', 'choose one kind of group: --policy, --host/--path, or --all-groups', { hint: 'policy snapshots and ad-hoc snapshots are different groups; run forget once for each' });
  if (options.policy !== undefined) return { policy: options.policy };
  if (options.allGroups) return { allGroups: true };
  const selection = { ...(options.host ? { host: options.host } : {}), ...(options.path.length ? { paths: options.path.map((p) => resolve(p)) } : {}) };
  checkSelection(selection);
  return selection;
}

/** `--policy NAME -c bulwark.yaml` without rules on the command line: the retention bulwark.yaml sets for this repository. */
async function configuredRetention(options: ForgetOptions): Promise<RetentionPolicy> {
  if (!options.policy || !options.config) {
    throw new BulwarkError('USAGE', 'no retention rule given', { hint: 'pass --keep-last, --keep-daily, ... or --policy NAME with -c bulwark.yaml to use the policy\'s retention' });
  }
  const { loadValidConfig } = await import('../../../config/index.js');
  const { config } = await loadValidConfig(options.config);
  const policy = findPolicy(config, options.policy);
  const retention = retentionFor(policy, options.repository ?? policy.copies[0]!);
  if (!retention) throw new BulwarkError('USAGE', `policy ${options.policy} has no retention in bulwark.yaml`, { hint: `set backups.policies.${options.policy}.retention, or pass --keep-* rules` });
  const { keep_within, ...rest } = retention;
  return { ...rest, ...(keep_within ? { keep_within } : {}) };
}

function printGroups(groups: ForgetGroup[], options: ForgetOptions): void {
  if (groups.length === 0) print('no snapshot is in the selected group');
  for (const g of groups) {
    print(`${g.key}: keep ${g.keep.length}, remove ${g.remove.length}${options.dryRun ? ' (dry run)' : ''}`);
    for (const k of g.keep) print(`  keep    ${k.id.slice(0, 8)}  ${k.time}  ${k.reasons.join(', ')}`);
    for (const r of g.remove) print(`  remove  ${r.id.slice(0, 8)}  ${r.time}`);
  }
}

function retentionFrom(options: ForgetOptions): RetentionPolicy {
  const n = (flag: string, v?: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new BulwarkError('USAGE', `${flag} "${v}" is not a positive whole number`, { hint: `e.g. ${flag} 7` });
    return Number(v);
  };
  const policy = {
    keep_last: n('--keep-last', options.keepLast), hourly: n('--keep-hourly', options.keepHourly), daily: n('--keep-daily', options.keepDaily),
    weekly: n('--keep-weekly', options.keepWeekly), monthly: n('--keep-monthly', options.keepMonthly), yearly: n('--keep-yearly', options.keepYearly),
    keep_within: options.keepWithin ? durationOption('--keep-within', options.keepWithin) : undefined,
  };
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
}

function printPrune(report: Awaited<ReturnType<typeof pruneRepository>>, options: RepoOptions): void {
  if (options.json) return printJSON(report);
  if (!options.quiet) print(`prune: ${report.packsDeleted} of ${report.packsBefore} packs deleted, ${report.packsRepacked} repacked, ${formatBytes(report.bytesFreed)} freed, ${report.blobsRemoved} blobs removed, ${report.staleLocksRemoved} stale lock(s) cleared`);
  if (report.deferred) printError(`the delete phase was deferred: ${report.deferred}`);
}

export { collect };
