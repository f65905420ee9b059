import type { Command } from 'commander';
import { backupPaths, type BackupResult, backupStream, type CompressionMode } from '../../../backup/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes, ProgressLine } from '../../progress.js';
import { addCommonOptions, addRepoOptions, openRepo, sizeOption, waitLockMs, type RepoOptions } from './repo-options.js';

interface RunOptions extends RepoOptions {
  exclude: string[];
  oneFileSystem?: boolean;
  tag: string[];
  stdin?: boolean;
  stdinFilename: string;
  compression: CompressionMode;
  policy?: string;
  parent?: string;
  force?: boolean;
  workers?: string;
  packSize?: string;
}

export function registerRun(backup: Command): void {
  const command = backup.command('run').description('back up files, directories or standard input into a repository (or run a policy from bulwark.yaml)');
  addCommonOptions(addRepoOptions(command))
    .argument('[paths...]', 'files and directories to back up')
    .option('-e, --exclude <pattern>', 'skip names (*.log, node_modules) or absolute paths (/var/cache/**) that match; repeatable', collect, [])
    .option('-x, --one-file-system', 'do not cross into other file systems')
    .option('-t, --tag <tag>', 'tag the snapshot; repeatable', collect, [])
    .option('--stdin', 'back up standard input as one file')
    .option('--stdin-filename <name>', 'file name for --stdin', 'stdin')
    .option('--compression <mode>', 'auto (compress what compresses), off, or max', 'auto')
    .option('--parent <snapshot>', 'compare against this snapshot instead of the latest of the same paths')
    .option('--force', 're-read every file even if unchanged since the parent snapshot')
    .option('--workers <n>', 'chunking threads (default: one per core)')
    .option('--pack-size <size>', 'target size of pack files, e.g. 16MiB (the default); smaller suits slow links', '16MiB')
    .option('--policy <name>', 'run a policy from bulwark.yaml (-c): its source, repositories, retention and copies')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 bad input, 3 done but some files could not be read (listed).\n\nExamples:\n  bulwark backup run -r /var/backups/bulwark /etc /srv/app --exclude "*.tmp"\n  pg_dumpall | bulwark backup run -r /var/backups/bulwark --stdin --stdin-filename all.sql\n  bulwark backup run -c bulwark.yaml --policy main-db')
    .action(async (paths: string[], options: RunOptions) => {
      if (options.policy) return (await import('./run-policy.js')).runPolicyCommand(options.policy, options);
      if (!['auto', 'off', 'max'].includes(options.compression)) throw new BulwarkError('USAGE', `--compression "${options.compression}" is not auto, off or max`, { hint: 'use --compression auto' });
      if (!options.stdin && paths.length === 0) throw new BulwarkError('USAGE', 'nothing to back up', { hint: 'give paths, --stdin, or --policy NAME with -c bulwark.yaml' });
      const repo = await openRepo(options);
      const progress = new ProgressLine('backup', options);
      const common = {
        tags: options.tag, compression: options.compression, lockWaitMs: waitLockMs(options),
        exclude: options.exclude, oneFileSystem: options.oneFileSystem, workers: options.workers ? Number(options.workers) : undefined,
        parent: options.force ? (false as const) : options.parent,
        packSize: sizeOption('--pack-size', options.packSize ?? '16MiB'),
        onProgress: (p: { bytes: number; files: number }) => progress.update(p.bytes, undefined, `${p.files} files`),
      };
      const result = options.stdin ? await backupStream(repo, process.stdin, options.stdinFilename, common) : await backupPaths(repo, paths, common);
      progress.done();
      report(result, options);
      process.exitCode = result.partial ? EXIT.partial : EXIT.ok;
    });
}

/** The run's summary; `-q` leaves only warnings (on standard error), as restic's does. */
export function report(result: BackupResult, options: { json?: boolean; quiet?: boolean }): void {
  const s = result.snapshot.summary;
  if (options.json) return printJSON({ id: result.id, time: result.snapshot.time, paths: result.snapshot.paths, summary: s, partial: result.partial });
  if (!options.quiet) printSummary(result);
  if (s.skipped.length > 0) {
    printError(`warning: ${s.skipped.length} item(s) could not be read and are not in the snapshot:`);
    for (const skip of s.skipped) printError(`  ${skip.path}: ${skip.reason}`);
  }
}

function printSummary(result: BackupResult): void {
  const s = result.snapshot.summary;
  print(`snapshot ${result.id.slice(0, 8)} saved`);
  print(`  ${s.files} files (${s.unchangedFiles} unchanged), ${s.dirs} directories, ${formatBytes(s.bytes)} processed in ${(s.durationMs / 1000).toFixed(1)}s (${formatBytes(s.bytes / Math.max(0.001, s.durationMs / 1000))}/s)`);
  print(`  added ${formatBytes(s.addedBytes)} of new data, stored as ${formatBytes(s.storedBytes)}`);
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
