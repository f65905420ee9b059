import type { Command } from 'commander';
import { archiveSegmentToAll, RESTORE_EXIT, writeRestoredSegment } from '../../../backup/postgres/wal-archive.js';
import { closeAll, fetchFromAny, openPolicyWalStores, type NamedWalStore } from '../../../backup/policy/wal-copies.js';
import { findPolicy } from '../../../backup/policy/runner.js';
import { checkWalFileName } from '../../../backup/postgres/wal-store.js';
import { BulwarkError, errorMessage, isBulwarkError } from '../../../core/errors.js';
import { printError } from '../../output.js';

interface WalOptions { config: string; repository?: string }

/** PostgreSQL's archive_command and restore_command: `bulwark backup wal archive POLICY %p -c FILE`. */
export function registerWal(backup: Command): void {
  const wal = backup.command('wal').description('continuous WAL archiving for PostgreSQL policies (used as archive_command / restore_command)');
  wal.command('archive')
    .description('store one WAL file in every repository of the policy (archive_command = \'bulwark backup wal archive POLICY %p -c /etc/bulwark.yaml\'); '
      + 'it succeeds only once every repository holds the file')
    .argument('<policy>', 'backup policy with wal_archiving: true').argument('<path>', 'the WAL file (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policy: string, path: string, options: WalOptions) => {
      const stores = await walStores(options, policy);
      try {
        await archiveSegmentToAll(stores.map((s) => ({ name: `repository ${s.repository}`, store: s.store })), path);
      } finally {
        await closeAll(stores);
      }
    });
  wal.command('restore')
    .description('fetch one WAL file (restore_command = \'bulwark backup wal restore POLICY %f %p -c /etc/bulwark.yaml\') from the first repository of the policy '
      + 'that has it, or from --repository only; exit 1 when absent, 126 when it cannot be fetched')
    .argument('<policy>', 'backup policy').argument('<name>', 'WAL file name (%f)').argument('<path>', 'where to write it (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .option('--repository <name>', 'read only this repository of the policy (e.g. the off-site copy when the primary site is lost)')
    .action(async (policy: string, name: string, path: string, options: WalOptions) => {
      // PostgreSQL asks for files that do not exist yet: "missing" (exit 1) is an answer, and ends recovery there.
      // Any other failure must exit above 125, or PostgreSQL would take it for "missing" and promote too early.
      let stores: NamedWalStore[] = [];
      try {
        checkWalFileName(name);
        stores = await walStores(options, policy);
        const data = await fetchFromAny(stores, name);
        process.exitCode = data === undefined ? RESTORE_EXIT.missing : RESTORE_EXIT[await writeRestoredSegment(data, path)];
      } catch (err) {
        printError(`error: could not fetch WAL file ${name}: ${isBulwarkError(err) ? err.describe() : errorMessage(err)}`);
        process.exitCode = RESTORE_EXIT.failed;
      } finally {
        await closeAll(stores);
      }
    });
}

async function walStores(options: WalOptions, policyName: string): Promise<NamedWalStore[]> {
  const { loadValidConfig } = await import('../../../config/index.js');
  const { config } = await loadValidConfig(options.config);
  const policy = findPolicy(config, policyName);
  if (!policy.wal_archiving) throw new BulwarkError('USAGE', `policy ${policyName} does not archive WAL`, { hint: `set backups.policies.${policyName}.wal_archiving: true` });
  if (options.repository === undefined) return openPolicyWalStores(config.backups!, policyName, policy);
  if (!policy.copies.includes(options.repository)) {
    throw new BulwarkError('USAGE', `policy ${policyName} does not copy to repository "${options.repository}"`, { hint: `its repositories: ${policy.copies.join(', ')}` });
  }
  const { openConfiguredRepo } = await import('../../../backup/policy/repos.js');
  const { RepoWalStore } = await import('../../../backup/policy/repo-wal-store.js');
  const repo = await openConfiguredRepo(config.backups!, options.repository, { create: false });
  return [{ repository: options.repository, repo, store: new RepoWalStore(repo, policyName) }];
}
