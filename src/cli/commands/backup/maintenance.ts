import type { Command } from 'commander';
import { checkRepository } from '../../../backup/maintenance/check.js';
import { forgetSnapshots } from '../../../backup/maintenance/forget.js';
import { pruneRepository } from '../../../backup/maintenance/prune.js';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes, ProgressLine } from '../../progress.js';
import { collect } from './run.js';
import { addCommonOptions, addRepoOptions, durationOption, openRepo, waitLockMs, type RepoOptions } from './repo-options.js';

interface ForgetOptions extends RepoOptions { keepLast?: string; keepHourly?: string; keepDaily?: string; keepWeekly?: string; keepMonthly?: string; keepYearly?: string; keepWithin?: string; dryRun?: boolean; prune?: boolean }

export function registerMaintenance(backup: Command): void {
  addCommonOptions(addRepoOptions(backup.command('forget').description('remove snapshots that a retention policy does not keep (see docs/backup-retention.md); data goes with `prune`')))
    .option('--keep-last <n>', 'keep the n newest snapshots')
    .option('--keep-hourly <n>', 'keep the newest snapshot of each of the last n hours that have one')
    .option('--keep-daily <n>', 'the same per day')
    .option('--keep-weekly <n>', 'the same per ISO week')
    .option('--keep-monthly <n>', 'the same per month')
    .option('--keep-yearly <n>', 'the same per year')
    .option('--keep-within <duration>', 'keep every snapshot younger than this, counted back from the newest snapshot, e.g. 7d')
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('--prune', 'prune unreferenced data afterwards')
    .action(async (options: ForgetOptions) => {
      const repo = await openRepo(options);
      const policy = retentionFrom(options);
      const groups = await forgetSnapshots(repo, policy, { dryRun: options.dryRun, lockWaitMs: waitLockMs(options) });
      if (options.json) printJSON(groups);
      else for (const g of groups) {
        print(`${g.key}: keep ${g.keep.length}, remove ${g.remove.length}${options.dryRun ? ' (dry run)' : ''}`);
        for (const k of g.keep) print(`  keep    ${k.id.slice(0, 8)}  ${k.time}  ${k.reasons.join(', ')}`);
        for (const r of g.remove) print(`  remove  ${r.id.slice(0, 8)}  ${r.time}`);
      }
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
        print(`${report.snapshots} snapshots, ${report.packs} packs, ${report.blobs} blobs; read ${report.packsRead} packs (${formatBytes(report.bytesRead)}) in ${(report.durationMs / 1000).toFixed(1)}s`);
        if (report.unreferencedPacks.length) print(`${report.unreferencedPacks.length} pack(s) not in any index (left by an interrupted run; \`bulwark backup prune\` removes them)`);
        for (const e of report.errors) printError(`error: ${e}`);
        for (const a of report.affected) printError(`damaged: snapshot ${a.snapshot.slice(0, 8)} (${a.time}): ${a.paths.join(', ')}`);
        print(report.ok ? 'no errors found' : `${report.errors.length} error(s) found`);
      }
      process.exitCode = report.ok ? EXIT.ok : EXIT.findings;
    });
}

function retentionFrom(options: ForgetOptions) {
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
  print(`prune: ${report.packsDeleted} of ${report.packsBefore} packs deleted, ${report.packsRepacked} repacked, ${formatBytes(report.bytesFreed)} freed, ${report.blobsRemoved} blobs removed, ${report.staleLocksRemoved} stale lock(s) cleared`);
  if (report.deferred) printError(`the delete phase was deferred: ${report.deferred}`);
}

export { collect };
