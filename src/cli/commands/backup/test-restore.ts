import type { Command } from 'commander';
import { testRestore } from '../../../backup/index.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes, formatDuration, ProgressLine } from '../../progress.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

export function registerTestRestore(backup: Command): void {
  const command = backup.command('test-restore').description('restore a snapshot into a temporary directory, verify every byte against the snapshot, and report RTO (duration) and RPO (age of the restored point)');
  addCommonOptions(addRepoOptions(command))
    .argument('[snapshot]', 'snapshot id (prefix) or "latest"', 'latest')
    .option('--keep', 'keep the restored files and print where they are')
    .addHelpText('after', '\nExit codes: 0 every file matched, 1 a mismatch or failure, 2 bad input.')
    .action(async (snapshot: string, options: RepoOptions & { keep?: boolean }) => {
      const repo = await openRepo(options);
      const ref = await repo.findSnapshot(snapshot);
      const progress = new ProgressLine('test-restore', options);
      const report = await testRestore(repo, ref, { keep: options.keep, onProgress: (p) => progress.update(p.bytes, p.totalBytes) });
      progress.done();
      if (options.json) printJSON(report);
      else {
        print(`${report.ok ? 'PASS' : 'FAIL'}: snapshot ${ref.id.slice(0, 8)} (${report.snapshotTime}), ${report.files} files, ${formatBytes(report.bytes)}`);
        print(`  restore took ${formatDuration(report.restoreMs / 1000)} (RTO for this data), verification ${formatDuration(report.verifyMs / 1000)}`);
        print(`  restored point is ${formatDuration(report.restoredPointAgeMs / 1000)} old (RPO if disaster struck now)`);
        if (options.keep) print(`  restored files kept in ${report.target}`);
        for (const m of report.mismatches) printError(`  mismatch: ${m.path}: ${m.reason}`);
      }
      process.exitCode = report.ok ? EXIT.ok : EXIT.findings;
    });
}
