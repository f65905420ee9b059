import type { Command } from 'commander';
import { Repository, resolveChunkerParams } from '../../../backup/index.js';
import { parseSize } from '../../../core/units.js';
import { BulwarkError } from '../../../core/errors.js';
import { print, printJSON } from '../../output.js';
import { addCommonOptions, addRepoOptions, openRepo, resolveRepo, track, type RepoOptions } from './repo-options.js';

interface InitOptions extends RepoOptions { copyFrom?: string; copyFromPasswordFile?: string; chunkAvg?: string }

export function registerInit(backup: Command): void {
  const command = backup.command('init').description('create an encrypted repository (key from the password with scrypt; data with AES-256-GCM)');
  addCommonOptions(addRepoOptions(command))
    .option('--copy-from <location>', 'share content key and chunker with this repository, so `backup copy` between them moves only missing data')
    .option('--copy-from-password-file <file>', 'password file of the --copy-from repository (default: the same password)')
    .option('--chunk-avg <size>', 'average chunk size (a power of two), e.g. 1MiB', '1MiB')
    .addHelpText('after', '\nExamples:\n  BULWARK_BACKUP_PASSWORD=... bulwark backup init -r /var/backups/bulwark\n  bulwark backup init -r sftp:backup@dr-site:22/srv/bulwark --copy-from /var/backups/bulwark')
    .action(async (options: InitOptions) => {
      const { backend, password } = await resolveRepo(options);
      const copyFrom = options.copyFrom ? await openRepo({ repo: options.copyFrom, passwordFile: options.copyFromPasswordFile ?? options.passwordFile }) : undefined;
      const repo = track(await Repository.init(backend, password, { copyFrom, chunker: chunkerFor(options.chunkAvg ?? '1MiB') }));
      if (options.json) return printJSON({ id: repo.config.id, location: backend.location, chunker: repo.config.chunker, key: repo.keyId });
      if (options.quiet) return;
      print(`created repository ${repo.config.id} at ${backend.location}${copyFrom ? ` (content key shared with ${copyFrom.backend.location})` : ''}`);
      print('keep the password safe: without it the data cannot be read by anyone, including you.');
    });
}

function chunkerFor(avgText: string) {
  const avg = parseSize(avgText);
  if (!avg.ok) throw new BulwarkError('USAGE', `--chunk-avg "${avgText}" is not ${avg.expected}`, { hint: 'e.g. --chunk-avg 1MiB' });
  const params = resolveChunkerParams({ avgSize: avg.value, minSize: avg.value / 2, maxSize: avg.value * 8 });
  return { minSize: params.minSize, avgSize: params.avgSize, maxSize: params.maxSize };
}
