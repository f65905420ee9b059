import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type BaseBackupInfo, findPolicy, isBaseBackupOf, loadPointInTimeRecovery, openConfiguredRepo, parseLsn, type RecoveryTarget, restoreCommand, restoreSnapshot, type SnapshotRef } from '../../../backup/index.js';
import { loadValidConfig } from '../../../config/index.js';
import { BulwarkError } from '../../../core/errors.js';
import { freePort } from '../../../core/net.js';
import { print, printJSON } from '../../output.js';
import { ProgressLine } from '../../progress.js';
import { track, type RepoOptions } from './repo-options.js';

export interface PitrOptions { policy?: string; to: string; verify?: boolean; target?: string }

/** How PostgreSQL runs `bulwark backup wal ...` (archive_command, restore_command): this very CLI, by absolute paths. */
export function walCommandPrefix(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [process.execPath, fileURLToPath(new URL('../../main.js', import.meta.url)), 'backup'];
  // From sources (tests): PostgreSQL runs the command from its data directory, so tsx must be named by path.
  return [process.execPath, '--import', createRequire(import.meta.url).resolve('tsx'), fileURLToPath(new URL('../../main.ts', import.meta.url)), 'backup'];
}

export async function restorePostgres(options: RepoOptions & PitrOptions): Promise<void> {
  if (!options.config || !options.target) throw new BulwarkError('USAGE', '--policy needs -c bulwark.yaml and --target DIR', { hint: 'bulwark restore -c bulwark.yaml --policy main-db --to latest --target /srv/pg-restore' });
  const { checkTargetAfterBackup, parseRecoveryTarget, prepareRecovery, startAndAwaitRecovery } = await loadPointInTimeRecovery();
  const started = performance.now();
  const configPath = resolve(options.config);
  const { config } = await loadValidConfig(configPath);
  const policy = findPolicy(config, options.policy!);
  const target = parseRecoveryTarget(options.to);
  const repository = options.repository ?? policy.copies[0]!;
  if (!policy.copies.includes(repository)) {
    throw new BulwarkError('USAGE', `policy ${options.policy!} does not copy to repository "${repository}"`, { hint: `its repositories: ${policy.copies.join(', ')}` });
  }
  const repo = track(await openPolicyRepo(config.backups!, repository, policy.copies));
  const base = pickBaseBackup(await repo.listSnapshots(), options.policy!, target);
  const info = base.snapshot.meta!.postgres as BaseBackupInfo;
  checkTargetAfterBackup(target, { stopLsn: info.stopLsn, stopTime: new Date(info.stopTime) });
  const progress = new ProgressLine('restore', options);
  await restoreSnapshot(repo, base, { target: options.target, root: base.snapshot.paths[0], onProgress: (p) => progress.update(p.bytes, p.totalBytes) });
  progress.done();
  // WAL comes from the repository the base backup came from: after losing a site, the other repositories may not answer at all.
  const command = `${restoreCommand(walCommandPrefix(), options.policy!)} -c ${shellWord(configPath)} --repository ${shellWord(repository)}`;
  await prepareRecovery({ dataDir: options.target, target, restoreCommand: command });
  const restoreMs = Math.round(performance.now() - started);
  let recovered;
  if (options.verify) {
    const superuser = policy.source.postgres ? config.databases[policy.source.postgres]?.postgres?.superuser : undefined;
    const server = await startAndAwaitRecovery({ dataDir: options.target, port: await freePort(), timeoutMs: 10 * 60_000, user: superuser });
    recovered = server.result;
    await server.stop();
  }
  const out = { policy: options.policy, repository, baseBackup: base.id, baseBackupTime: base.snapshot.time, target: options.to, dataDir: options.target, restoreMs, recovered, totalMs: Math.round(performance.now() - started) };
  if (options.json) return printJSON(out);
  print(`restored base backup ${base.id.slice(0, 8)} (${base.snapshot.time}) from repository ${repository} to ${options.target} in ${(restoreMs / 1000).toFixed(1)}s; recovery to ${options.to} is configured`);
  if (recovered) print(`recovered to ${recovered.recoveredLsn}, last transaction ${recovered.lastReplayedTransactionTime?.toISOString() ?? 'none'} (${recovered.stopMessage ?? 'end of archive'}); total ${(out.totalMs / 1000).toFixed(1)}s`);
  else print('start PostgreSQL on it to replay the archived WAL up to the target; it promotes itself there');
}

async function openPolicyRepo(backups: Parameters<typeof openConfiguredRepo>[0], repository: string, copies: string[]) {
  try {
    return await openConfiguredRepo(backups, repository, { create: false });
  } catch (err) {
    const others = copies.filter((c) => c !== repository);
    if (err instanceof BulwarkError && others.length > 0) {
      throw new BulwarkError(err.code, `repository ${repository} cannot be read: ${err.message}`, {
        hint: `every copy of the policy holds its base backups and WAL: restore from another with --repository ${others.join(' or --repository ')}`, cause: err,
      });
    }
    throw err;
  }
}

/** The newest base backup of the policy that ended before the target. */
function pickBaseBackup(snapshots: SnapshotRef[], policy: string, target: RecoveryTarget): SnapshotRef {
  const bases = snapshots.filter((s) => isBaseBackupOf(s, policy));
  const usable = bases.filter((s) => {
    const info = s.snapshot.meta!.postgres as BaseBackupInfo;
    if (target.kind === 'time') return new Date(info.stopTime).getTime() <= target.time.getTime();
    if (target.kind === 'lsn') return parseLsn(info.stopLsn) <= parseLsn(target.lsn);
    return true;
  });
  const chosen = usable.at(-1) ?? bases[0];
  if (!chosen) throw new BulwarkError('NOT_FOUND', `policy ${policy} has no PostgreSQL base backup`, { hint: `run \`bulwark backup run -c bulwark.yaml --policy ${policy}\` first` });
  return chosen;
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
