import type { Command } from 'commander';
import { archiveSegment, fetchSegment } from '../../../backup/postgres/index.js';
import { RepoWalStore } from '../../../backup/policy/repo-wal-store.js';
import { openConfiguredRepo } from '../../../backup/policy/repos.js';
import { findPolicy } from '../../../backup/policy/runner.js';
import { loadValidConfig } from '../../../config/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { EXIT } from '../../exit-codes.js';

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
    .description('fetch one WAL file (restore_command = \'bulwark backup wal restore POLICY %f %p -c /etc/bulwark.yaml\'); exit 1 when absent')
    .argument('<policy>', 'backup policy').argument('<name>', 'WAL file name (%f)').argument('<path>', 'where to write it (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policy: string, name: string, path: string, options: { config: string }) => {
      const store = await walStore(options.config, policy);
      // PostgreSQL asks for files that do not exist yet; "missing" is an answer, not an error.
      if ((await fetchSegment(store, name, path)) === 'missing') process.exitCode = EXIT.findings;
    });
}

async function walStore(configFile: string, policyName: string): Promise<RepoWalStore> {
  const { config } = await loadValidConfig(configFile);
  const policy = findPolicy(config, policyName);
  if (!policy.wal_archiving) throw new BulwarkError('USAGE', `policy ${policyName} does not archive WAL`, { hint: `set backups.policies.${policyName}.wal_archiving: true` });
  return new RepoWalStore(await openConfiguredRepo(config.backups!, policy.copies[0]!), policyName);
}
