import type { Command } from 'commander';
import { archiveSegment, fetchSegment, RESTORE_EXIT } from '../../../backup/postgres/wal-archive.js';
import { RepoWalStore } from '../../../backup/policy/repo-wal-store.js';
import { openConfiguredRepo } from '../../../backup/policy/repos.js';
import { findPolicy } from '../../../backup/policy/runner.js';
import { BulwarkError, errorMessage, isBulwarkError } from '../../../core/errors.js';
import { printError } from '../../output.js';
import { track } from './repo-options.js';

/** PostgreSQL's archive_command and restore_command: `bulwark backup wal archive POLICY %p -c FILE`. */
export function registerWal(backup: Command): void {
  const wal = backup.command('wal').description('continuous WAL archiving for PostgreSQL policies (used as archive_command / restore_command)');
  wal.command('archive')
    .description('store one WAL file (archive_command = \'bulwark backup wal archive POLICY %p -c /etc/bulwark.yaml\')')
    .argument('<policy>', 'backup policy with wal_archiving: true').argument('<path>', 'the WAL file (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policy: string, path: string, options: { config: string }) => {
      const store = await walStore(options.config, policy);
      await archiveSegment(store, path);
    });
  wal.command('restore')
    .description('fetch one WAL file (restore_command = \'bulwark backup wal restore POLICY %f %p -c /etc/bulwark.yaml\'); exit 1 when absent, 126 when it cannot be fetched')
    .argument('<policy>', 'backup policy').argument('<name>', 'WAL file name (%f)').argument('<path>', 'where to write it (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policy: string, name: string, path: string, options: { config: string }) => {
      // PostgreSQL asks for files that do not exist yet: "missing" (exit 1) is an answer, and ends recovery there.
      // Any other failure must exit above 125, or PostgreSQL would take it for "missing" and promote too early.
      try {
        const store = await walStore(options.config, policy);
        process.exitCode = RESTORE_EXIT[await fetchSegment(store, name, path)];
      } catch (err) {
        printError(`error: could not fetch WAL file ${name}: ${isBulwarkError(err) ? err.describe() : errorMessage(err)}`);
        process.exitCode = RESTORE_EXIT.failed;
      }
    });
}

async function walStore(configFile: string, policyName: string): Promise<RepoWalStore> {
  const { loadValidConfig } = await import('../../../config/index.js');
  const { config } = await loadValidConfig(configFile);
  const policy = findPolicy(config, policyName);
  if (!policy.wal_archiving) throw new BulwarkError('USAGE', `policy ${policyName} does not archive WAL`, { hint: `set backups.policies.${policyName}.wal_archiving: true` });
  return new RepoWalStore(track(await openConfiguredRepo(config.backups!, policy.copies[0]!)), policyName);
}
