import { resolve } from 'node:path';
import type { Command } from 'commander';
import { archiveCommand, archiveSegmentToAll, archiveStatus, checkWalFileName, closeAll, fetchFromAny, findPolicy, type NamedWalStore, openConfiguredRepo, openPolicyWalStores, type PolicyConfig, pushAsync, RepoWalStore, RESTORE_EXIT, restoreCommand, runArchiver, writeRestoredSegment } from '../../../backup/index.js';
import type { BulwarkConfig } from '../../../config/index.js';
import { BulwarkError, errorMessage, isBulwarkError } from '../../../core/errors.js';
import { print, printError, printJSON } from '../../output.js';
import { durationOption } from './repo-options.js';

interface WalOptions { config: string; repository?: string }

/** PostgreSQL's archive_command and restore_command: `bulwark backup wal archive POLICY %p -c FILE`. */
export function registerWal(backup: Command): void {
  const wal = backup.command('wal').description('continuous WAL archiving for PostgreSQL policies (used as archive_command / restore_command)');
  registerArchive(wal);
  registerArchiver(wal);
  registerStatus(wal);
  registerCommand(wal);
  registerRestore(wal);
}

function registerArchive(wal: Command): void {
  wal.command('archive')
    .description('store one WAL file in every repository of the policy (archive_command; `bulwark backup wal command` prints the exact line); '
      + 'it succeeds only once every repository holds the file. With a spool, it waits for the asynchronous archiver and starts it when none runs')
    .argument('<policy>', 'backup policy with wal_archiving').argument('<path>', 'the WAL file (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policyName: string, path: string, options: WalOptions) => {
      const { config, policy } = await walPolicy(options.config, policyName);
      if (policy.wal_async) {
        const configPath = resolve(options.config);
        await pushAsync(policyName, policy.wal_async, path, {
          archiverArgv: (pgWal) => [...process.execArgv, process.argv[1]!, 'backup', 'wal', 'archiver', policyName, '--pg-wal', pgWal, '-c', configPath],
        });
        return;
      }
      const stores = await openPolicyWalStores(config.backups!, policyName, policy);
      try {
        await archiveSegmentToAll(stores.map((s) => ({ name: `repository ${s.repository}`, store: s.store })), path);
      } finally {
        await closeAll(stores);
      }
    });
}

function registerArchiver(wal: Command): void {
  wal.command('archiver')
    .description('the asynchronous WAL archiver of a policy: ships every ready WAL file to every repository, several at once; `wal archive` starts it on demand')
    .argument('<policy>', 'backup policy with wal_archiving: { spool: DIR }')
    .requiredOption('--pg-wal <dir>', 'the pg_wal directory of the PostgreSQL server')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .option('--idle <duration>', 'exit after this long with nothing to archive', '30s')
    .action(async (policyName: string, options: { pgWal: string; config: string; idle: string }) => {
      const { config, policy } = await walPolicy(options.config, policyName);
      const { createLogger } = await import('../../../core/logger.js');
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await runArchiver({ backups: config.backups!, name: policyName, policy, pgWal: resolve(options.pgWal), logger: createLogger(), idleMs: durationOption('--idle', options.idle), signal: controller.signal });
    });
}

function registerStatus(wal: Command): void {
  wal.command('status')
    .description('the asynchronous archiver of a policy: whether it runs, files waiting, the oldest wait, the last file archived and the last error')
    .argument('<policy>', 'backup policy')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 nothing waits or it is being archived, 1 the last attempt failed, 2 bad input.')
    .action(async (policyName: string, options: { config: string; json?: boolean }) => {
      const { policy } = await walPolicy(options.config, policyName);
      const status = await archiveStatus(policyName, policy);
      if (options.json) printJSON(status);
      else for (const line of status.lines) print(line);
      process.exitCode = status.failing ? 1 : 0;
    });
}

function registerCommand(wal: Command): void {
  wal.command('command')
    .description('print the archive_command and restore_command lines for postgresql.conf')
    .argument('<policy>', 'backup policy')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .action(async (policyName: string, options: { config: string }) => {
      const { policy } = await walPolicy(options.config, policyName);
      const { walCommandPrefix } = await import('./restore-postgres.js');
      const suffix = ` -c ${resolve(options.config)}`;
      const spool = policy.wal_async ? { root: policy.wal_async.spool, suffix, waitSeconds: policy.wal_async.timeoutMs / 1000 } : undefined;
      print(`archive_mode = on`);
      print(`archive_command = '${archiveCommand(walCommandPrefix(), policyName, spool ?? undefined).replace(/'/g, "''")}${spool ? '' : suffix}'`);
      print(`restore_command = '${`${restoreCommand(walCommandPrefix(), policyName)}${suffix}`.replace(/'/g, "''")}'`);
    });
}

function registerRestore(wal: Command): void {
  wal.command('restore')
    .description('fetch one WAL file (restore_command = \'bulwark backup wal restore POLICY %f %p -c /etc/bulwark.yaml\') from the first repository of the policy '
      + 'that has it, or from --repository only; exit 1 when absent, 126 when it cannot be fetched')
    .argument('<policy>', 'backup policy').argument('<name>', 'WAL file name (%f)').argument('<path>', 'where to write it (%p)')
    .requiredOption('-c, --config <file>', 'bulwark.yaml')
    .option('--repository <name>', 'read only this repository of the policy (e.g. the off-site copy when the primary site is lost)')
    .action(async (policyName: string, name: string, path: string, options: WalOptions) => {
      // PostgreSQL asks for files that do not exist yet: "missing" (exit 1) is an answer, and ends recovery there.
      // Any other failure must exit above 125, or PostgreSQL would take it for "missing" and promote too early.
      let stores: NamedWalStore[] = [];
      try {
        checkWalFileName(name);
        stores = await readStores(options, policyName);
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

async function walPolicy(configFile: string, policyName: string): Promise<{ config: BulwarkConfig; policy: PolicyConfig }> {
  const { loadValidConfig } = await import('../../../config/index.js');
  const { config } = await loadValidConfig(configFile);
  const policy = findPolicy(config, policyName);
  if (!policy.wal_archiving) throw new BulwarkError('USAGE', `policy ${policyName} does not archive WAL`, { hint: `set backups.policies.${policyName}.wal_archiving: true` });
  return { config, policy };
}

async function readStores(options: WalOptions, policyName: string): Promise<NamedWalStore[]> {
  const { config, policy } = await walPolicy(options.config, policyName);
  if (options.repository === undefined) return openPolicyWalStores(config.backups!, policyName, policy);
  if (!policy.copies.includes(options.repository)) {
    throw new BulwarkError('USAGE', `policy ${policyName} does not copy to repository "${options.repository}"`, { hint: `its repositories: ${policy.copies.join(', ')}` });
  }
  const repo = await openConfiguredRepo(config.backups!, options.repository, { create: false });
  return [{ repository: options.repository, repo, store: new RepoWalStore(repo, policyName) }];
}
