import type { Command } from 'commander';
import { dumpFile, restoreSnapshot } from '../../../backup/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';
import { print, printError, printJSON } from '../../output.js';
import { formatBytes, ProgressLine } from '../../progress.js';
import { collect } from './run.js';
import type { PitrOptions } from './restore-postgres.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

interface RestoreOptions extends RepoOptions, PitrOptions { target?: string; include: string[]; stdout?: boolean }

export function registerRestore(program: Command): void {
  const command = program.command('restore').description('restore a snapshot (or some paths) to a directory or standard output; or a PostgreSQL database to a point in time');
  addCommonOptions(addRepoOptions(command))
    .argument('[snapshot]', 'snapshot id (prefix) or "latest"', 'latest')
    .option('-t, --target <dir>', 'where to restore (created if missing)')
    .option('-i, --include <path>', 'restore only this path of the snapshot; repeatable', collect, [])
    .option('--stdout', 'write the one file selected by --include (or the only file) to standard output')
    .option('--policy <name>', 'PostgreSQL point-in-time restore of this policy (-c bulwark.yaml)')
    .option('--to <point>', 'with --policy: "latest", a WAL location (0/3000060) or a time with zone (2026-05-01T12:00:00Z)', 'latest')
    .option('--verify', 'with --policy: start PostgreSQL on the restored directory, wait until it reaches the target, report the recovered point, stop it')
    .addHelpText('after', '\nExamples:\n  bulwark restore -r /var/backups/bulwark latest --target /tmp/restore\n  bulwark restore -r /var/backups/bulwark 4f2a --include /etc/nginx/nginx.conf --stdout\n  bulwark restore -c bulwark.yaml --policy main-db --to "2026-11-23T10:15:00Z" --target /var/lib/postgresql/15/restored --verify')
    .action(async (snapshot: string, options: RestoreOptions) => {
      if (options.policy) return (await import('./restore-postgres.js')).restorePostgres(options);
      const repo = await openRepo(options);
      const ref = await repo.findSnapshot(snapshot);
      if (options.stdout) {
        if (options.include.length > 1) throw new BulwarkError('USAGE', '--stdout writes one file; give at most one --include', { hint: 'bulwark restore SNAPSHOT --include /path/file --stdout' });
        await dumpFile(repo, ref, options.include[0], process.stdout);
        return;
      }
      if (!options.target) throw new BulwarkError('USAGE', 'no --target directory', { hint: 'bulwark restore SNAPSHOT --target DIR (or --stdout for one file)' });
      const progress = new ProgressLine('restore', options);
      const summary = await restoreSnapshot(repo, ref, { target: options.target, include: options.include, onProgress: (p) => progress.update(p.bytes, p.totalBytes, `${p.files} files`) });
      progress.done();
      if (options.json) printJSON({ snapshot: ref.id, target: options.target, ...summary });
      else {
        if (!options.quiet) print(`restored snapshot ${ref.id.slice(0, 8)} to ${options.target}: ${summary.files} files, ${summary.dirs} directories, ${formatBytes(summary.bytes)} in ${(summary.durationMs / 1000).toFixed(1)}s`);
        for (const e of summary.errors) printError(`  could not restore ${e.path}: ${e.reason}`);
      }
      process.exitCode = summary.errors.length ? EXIT.partial : EXIT.ok;
    });
}
