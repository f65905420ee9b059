import type { Command } from 'commander';
import { copySnapshots } from '../../../backup/index.js';
import { print, printJSON } from '../../output.js';
import { formatBytes, ProgressLine } from '../../progress.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

export function registerCopy(backup: Command): void {
  const command = backup.command('copy').description('copy snapshots to another repository (3-2-1): only missing data moves; an interrupted copy resumes');
  addRepoOptions(addCommonOptions(addRepoOptions(command)), 'to')
    .argument('[snapshots...]', 'snapshot ids (default: every snapshot the destination lacks)')
    .addHelpText('after', '\nExample:\n  bulwark backup copy -r /var/backups/bulwark --to-repo sftp:backup@dr:22/srv/bulwark --to-password-file /etc/bulwark/dr.pass')
    .action(async (snapshots: string[], options: RepoOptions) => {
      const source = await openRepo(options);
      const dest = await openRepo(options, 'to');
      const progress = new ProgressLine('copy', options);
      const report = await copySnapshots(source, dest, { snapshots, onProgress: (p) => progress.update(p.bytes, undefined, `${p.blobs} blobs`) });
      progress.done();
      if (options.json) return printJSON(report);
      if (options.quiet) return;
      for (const c of report.copied) print(`copied ${c.source.slice(0, 8)} -> ${c.copy.slice(0, 8)}`);
      print(`${report.copied.length} copied, ${report.alreadyThere} already there, ${report.blobs} blobs (${formatBytes(report.bytes)}) moved in ${(report.durationMs / 1000).toFixed(1)}s`);
    });
}
